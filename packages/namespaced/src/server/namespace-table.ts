/**
 * The namespace tree: fixed-size tables of namespace and object slots, recycled through free
 * lists with generation numbers (a freed slot's generation moves on, so every old handle to it
 * fails), one shared member name space per namespace, and per-namespace limits.
 */
import type { Capability } from '@comsg/capmachine';
import { ROOT_NAME, type NsTypeName, type ObjTypeName } from '../protocol/types.js';
import { SlotTable } from '@comsg/abi';
import { HandleCodec, type NsdKeys, type OpenedHandle } from './handles.js';
import type { CapMachine } from '@comsg/capmachine';

export interface NsEntry {
  readonly slot: number;
  readonly gen: number;
  readonly name: string;
  readonly type: NsTypeName;
  readonly parent: NsEntry | undefined;
  /** Objects and child namespaces, by name (one shared name space). */
  readonly members: Map<string, Member>;
}

export interface ObjEntry {
  readonly slot: number;
  readonly gen: number;
  readonly name: string;
  type: ObjTypeName;
  object: Capability | undefined;
  readonly ns: NsEntry;
}

export type Member = { readonly kind: 'ns'; readonly entry: NsEntry } | { readonly kind: 'obj'; readonly entry: ObjEntry };

export interface NsdLimits {
  readonly namespaces: number;
  readonly objects: number;
  readonly membersPerNamespace: number;
}

export const DEFAULT_LIMITS: NsdLimits = { namespaces: 1024, objects: 2048, membersPerNamespace: 512 };

export class NamespaceTable {
  readonly handles: HandleCodec;
  readonly limits: NsdLimits;
  readonly #ns: SlotTable<NsEntry>;
  readonly #obj: SlotTable<ObjEntry>;
  readonly root: NsEntry;

  constructor(machine: CapMachine, keys: NsdKeys, limits: Partial<NsdLimits> = {}) {
    this.handles = new HandleCodec(machine, keys);
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.#ns = new SlotTable(this.limits.namespaces);
    this.#obj = new SlotTable(this.limits.objects);
    const at = this.#ns.claim()!;
    this.root = { ...at, name: ROOT_NAME, type: 'ROOT', parent: undefined, members: new Map() };
    this.#ns.put(this.root);
  }

  /** A live namespace behind a handle, with the handle's perms; undefined if invalid or stale. */
  openNs(cap: unknown): (OpenedHandle<NsTypeName> & { entry: NsEntry }) | undefined {
    const h = this.handles.openNs(cap);
    const entry = h === undefined ? undefined : this.#ns.get(h.slot, h.gen);
    return entry === undefined || entry.type !== h!.type ? undefined : { ...h!, entry };
  }

  openObj(cap: unknown): (OpenedHandle<ObjTypeName> & { entry: ObjEntry }) | undefined {
    const h = this.handles.openObj(cap);
    const entry = h === undefined ? undefined : this.#obj.get(h.slot, h.gen);
    return entry === undefined ? undefined : { ...h!, entry };
  }

  nsHandle(ns: NsEntry, rights: number): Capability {
    return this.handles.mintNs(ns.slot, ns.gen, ns.type, rights);
  }

  /** Handles are sealed with the object's type *at minting*. */
  objHandle(obj: ObjEntry, rights: number): Capability {
    return this.handles.mintObj(obj.slot, obj.gen, obj.type, rights);
  }

  roomIn(ns: NsEntry): boolean {
    return ns.members.size < this.limits.membersPerNamespace;
  }

  createNs(parent: NsEntry, name: string, type: NsTypeName): NsEntry | undefined {
    if (!this.roomIn(parent)) return undefined;
    const at = this.#ns.claim();
    if (at === undefined) return undefined;
    const entry: NsEntry = { ...at, name, type, parent, members: new Map() };
    this.#ns.put(entry);
    parent.members.set(name, { kind: 'ns', entry });
    return entry;
  }

  insertObj(ns: NsEntry, name: string, type: ObjTypeName, object: Capability | undefined): ObjEntry | undefined {
    if (!this.roomIn(ns)) return undefined;
    const at = this.#obj.claim();
    if (at === undefined) return undefined;
    const entry: ObjEntry = { ...at, name, type, object, ns };
    this.#obj.put(entry);
    ns.members.set(name, { kind: 'obj', entry });
    return entry;
  }

  removeObj(obj: ObjEntry): void {
    const m = obj.ns.members.get(obj.name);
    if (m?.kind === 'obj' && m.entry === obj) obj.ns.members.delete(obj.name);
    this.#obj.release(obj);
  }

  /** Remove a namespace and everything below it; returns how many entries went. */
  dropNs(ns: NsEntry): number {
    let removed = 0;
    for (const m of [...ns.members.values()]) {
      if (m.kind === 'obj') {
        this.removeObj(m.entry);
        removed++;
      } else removed += this.dropNs(m.entry);
    }
    const p = ns.parent;
    const m = p?.members.get(ns.name);
    if (p !== undefined && m?.kind === 'ns' && m.entry === ns) p.members.delete(ns.name);
    this.#ns.release(ns);
    return removed + 1;
  }

  get counts(): { namespaces: number; objects: number } {
    return { namespaces: this.#ns.size, objects: this.#obj.size };
  }

  /**
   * Invariant checker (for tests and fuzzing): every live entry is reachable exactly once from
   * the root through member maps under its own name, member limits hold, and the tables hold
   * nothing unreachable.
   */
  check(): string[] {
    const problems: string[] = [];
    const seenNs = new Set<NsEntry>();
    const seenObj = new Set<ObjEntry>();
    const walk = (ns: NsEntry): void => {
      if (seenNs.has(ns)) return void problems.push(`namespace ${ns.name} reachable twice`);
      seenNs.add(ns);
      if (ns.members.size > this.limits.membersPerNamespace) problems.push(`namespace ${ns.name} over its member limit`);
      for (const [name, m] of ns.members) {
        if (m.entry.name !== name) problems.push(`member ${name} is filed under the wrong name`);
        if (m.kind === 'ns') {
          if (m.entry.parent !== ns) problems.push(`namespace ${name} has the wrong parent`);
          if (this.#ns.get(m.entry.slot, m.entry.gen) !== m.entry) problems.push(`namespace ${name} is not live`);
          walk(m.entry);
        } else {
          if (m.entry.ns !== ns) problems.push(`object ${name} points at the wrong namespace`);
          if (this.#obj.get(m.entry.slot, m.entry.gen) !== m.entry) problems.push(`object ${name} is not live`);
          if ((m.entry.type === 'RESERVATION') !== (m.entry.object === undefined)) problems.push(`object ${name}: reservation/object mismatch`);
          seenObj.add(m.entry);
        }
      }
    };
    walk(this.root);
    for (const e of this.#ns.values()) if (!seenNs.has(e)) problems.push(`namespace ${e.name} is unreachable`);
    for (const e of this.#obj.values()) if (!seenObj.has(e)) problems.push(`object ${e.name} is unreachable`);
    return problems;
  }
}
