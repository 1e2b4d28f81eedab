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
  /** The co-process charged for it (quota); 0 for the root. */
  readonly owner: number;
}

export interface ObjEntry {
  readonly slot: number;
  readonly gen: number;
  readonly name: string;
  type: ObjTypeName;
  object: Capability | undefined;
  readonly ns: NsEntry;
  /** The co-process charged for it (quota). */
  readonly owner: number;
}

export type Member = { readonly kind: 'ns'; readonly entry: NsEntry } | { readonly kind: 'obj'; readonly entry: ObjEntry };

export interface NsdLimits {
  readonly namespaces: number;
  readonly objects: number;
  readonly membersPerNamespace: number;
}

export const DEFAULT_LIMITS: NsdLimits = { namespaces: 1024, objects: 2048, membersPerNamespace: 512 };

/** Per-co-process quota: namespaces and objects it may have live at once (EDQUOT beyond). */
export interface NsdQuota {
  readonly namespaces: number;
  readonly objects: number;
}

export const DEFAULT_QUOTA: NsdQuota = { namespaces: 64, objects: 512 };

export interface NsdUsage {
  namespaces: number;
  objects: number;
}

/** Add `by` to `pid`'s count of `kind`, dropping the entry once it holds nothing. */
function charge(usage: Map<number, NsdUsage>, pid: number, kind: keyof NsdUsage, by: number): void {
  const u = usage.get(pid) ?? { namespaces: 0, objects: 0 };
  u[kind] += by;
  if (u.namespaces === 0 && u.objects === 0) usage.delete(pid);
  else usage.set(pid, u);
}

export class NamespaceTable {
  readonly handles: HandleCodec;
  readonly limits: NsdLimits;
  readonly quota: NsdQuota;
  /** Live namespaces and objects per co-process that created them. */
  readonly usage = new Map<number, NsdUsage>();
  readonly #ns: SlotTable<NsEntry>;
  readonly #obj: SlotTable<ObjEntry>;
  readonly root: NsEntry;

  /** Co-processes no quota applies to (the microkernel itself). */
  readonly #exempt: (pid: number) => boolean;

  constructor(machine: CapMachine, keys: NsdKeys, limits: Partial<NsdLimits> = {}, quota: Partial<NsdQuota> = {}, exempt: (pid: number) => boolean = () => false) {
    this.#exempt = exempt;
    this.handles = new HandleCodec(machine, keys);
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.quota = { ...DEFAULT_QUOTA, ...quota };
    this.#ns = new SlotTable(this.limits.namespaces);
    this.#obj = new SlotTable(this.limits.objects);
    const at = this.#ns.claim()!;
    this.root = { ...at, name: ROOT_NAME, type: 'ROOT', parent: undefined, members: new Map(), owner: 0 };
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

  /** True when `pid` may not create one more of `kind`. */
  overQuota(pid: number, kind: keyof NsdUsage): boolean {
    return !this.#exempt(pid) && (this.usage.get(pid)?.[kind] ?? 0) >= this.quota[kind];
  }

  roomIn(ns: NsEntry): boolean {
    return ns.members.size < this.limits.membersPerNamespace;
  }

  createNs(parent: NsEntry, name: string, type: NsTypeName, owner: number): NsEntry | undefined {
    if (!this.roomIn(parent)) return undefined;
    const at = this.#ns.claim();
    if (at === undefined) return undefined;
    const entry: NsEntry = { ...at, name, type, parent, members: new Map(), owner };
    this.#ns.put(entry);
    charge(this.usage, owner, 'namespaces', 1);
    parent.members.set(name, { kind: 'ns', entry });
    return entry;
  }

  insertObj(ns: NsEntry, name: string, type: ObjTypeName, object: Capability | undefined, owner: number): ObjEntry | undefined {
    if (!this.roomIn(ns)) return undefined;
    const at = this.#obj.claim();
    if (at === undefined) return undefined;
    const entry: ObjEntry = { ...at, name, type, object, ns, owner };
    this.#obj.put(entry);
    charge(this.usage, owner, 'objects', 1);
    ns.members.set(name, { kind: 'obj', entry });
    return entry;
  }

  removeObj(obj: ObjEntry): void {
    const m = obj.ns.members.get(obj.name);
    if (m?.kind === 'obj' && m.entry === obj) obj.ns.members.delete(obj.name);
    if (this.#obj.get(obj.slot, obj.gen) === obj) charge(this.usage, obj.owner, 'objects', -1);
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
    if (this.#ns.get(ns.slot, ns.gen) === ns && ns !== this.root) charge(this.usage, ns.owner, 'namespaces', -1);
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
    const charged = new Map<number, NsdUsage>();
    for (const e of this.#ns.values()) if (e !== this.root) charge(charged, e.owner, 'namespaces', 1);
    for (const e of this.#obj.values()) charge(charged, e.owner, 'objects', 1);
    for (const pid of new Set([...charged.keys(), ...this.usage.keys()])) {
      const a = charged.get(pid);
      const b = this.usage.get(pid);
      if (a?.namespaces !== b?.namespaces || a?.objects !== b?.objects) problems.push(`quota accounting for pid ${pid} disagrees with the tables`);
    }
    for (const e of this.#ns.values()) if (!seenNs.has(e)) problems.push(`namespace ${e.name} is unreachable`);
    for (const e of this.#obj.values()) if (!seenObj.has(e)) problems.push(`object ${e.name} is unreachable`);
    return problems;
  }
}
