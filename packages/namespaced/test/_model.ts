/**
 * The reference model of namespace semantics (spec §2.6, §2.8, §10) and the random command
 * programs that drive it: shared by the in-process model test (which also inspects nsd's
 * table) and the cross-runtime replay, whose driver runs on a worker thread and can only see
 * what a client sees (outcome tags).
 *
 * It imports fast-check itself, not @fast-check/ava: the replay driver loads it on a worker, outside ava.
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import type { Capability } from '@comsg/capmachine';
import { cocreate, codelete, codrop, coinsert, coselect, coupdate, type NsTypeName, type ObjTypeName } from '../src/protocol/index.js';
import type { AnyOpDecl, ArgsOf } from '@comsg/abi';

// Small enough that exhaustion (ENOSPC) is reachable with three valid names.
export const LIMITS = { namespaces: 4, objects: 5, membersPerNamespace: 2 };
export const NAMES = ['a', 'b', 'c', 'bad/name'] as const;
export const NS_TYPES: readonly NsTypeName[] = ['APPLICATION', 'PRIVATE', 'PUBLIC', 'LIBRARY', 'ROOT'];
export const OBJ_TYPES: readonly ObjTypeName[] = ['RESERVATION', 'COMMAP', 'COPORT', 'COSERVICE'];

// ---- the reference model ----
interface MNs {
  readonly id: number;
  readonly name: string;
  readonly type: NsTypeName;
  readonly parent: MNs | undefined;
  alive: boolean;
  readonly members: Map<string, { kind: 'ns'; e: MNs } | { kind: 'obj'; e: MObj }>;
}
interface MObj {
  readonly id: number;
  readonly name: string;
  type: ObjTypeName;
  readonly ns: MNs;
  alive: boolean;
}
export type MHandle =
  | { kind: 'ns'; e: MNs; write: boolean; own: boolean }
  | { kind: 'obj'; e: MObj; sealedAs: ObjTypeName; R: boolean; W: boolean; D: boolean };

export class Model {
  nextId = 1;
  readonly root: MNs = { id: 0, name: 'coproc', type: 'ROOT', parent: undefined, alive: true, members: new Map() };
  liveNs = 1;
  liveObj = 0;
  readonly handles: MHandle[] = [{ kind: 'ns', e: this.root, write: true, own: false }];

  ns(h: MHandle | undefined): Extract<MHandle, { kind: 'ns' }> | undefined {
    return h?.kind === 'ns' && h.e.alive ? h : undefined;
  }
  obj(h: MHandle | undefined): Extract<MHandle, { kind: 'obj' }> | undefined {
    return h?.kind === 'obj' && h.e.alive ? h : undefined;
  }
  valid(name: string): boolean {
    return /^[A-Za-z0-9._-]{1,91}$/.test(name);
  }
  room(ns: MNs): boolean {
    return ns.members.size < LIMITS.membersPerNamespace;
  }

  cocreate(name: string, type: NsTypeName, parentH: MHandle | undefined): string | MHandle {
    if (!this.valid(name)) return 'EINVAL';
    const p = this.ns(parentH);
    if (p === undefined || type === 'ROOT') return 'EINVAL';
    if ((type === 'APPLICATION' || type === 'LIBRARY') && p.e !== this.root) return 'EINVAL';
    if (!p.write) return 'EACCES';
    const m = p.e.members.get(name);
    if (m !== undefined) {
      if (m.kind === 'obj' || m.e.type !== type || type === 'PRIVATE') return 'EEXIST';
      return { kind: 'ns', e: m.e, write: true, own: false };
    }
    if (!this.room(p.e) || this.liveNs >= LIMITS.namespaces) return 'ENOSPC';
    const e: MNs = { id: this.nextId++, name, type, parent: p.e, alive: true, members: new Map() };
    p.e.members.set(name, { kind: 'ns', e });
    this.liveNs++;
    return { kind: 'ns', e, write: true, own: true };
  }

  #drop(ns: MNs): number {
    let n = 1;
    for (const m of ns.members.values()) {
      if (m.kind === 'obj') {
        m.e.alive = false;
        this.liveObj--;
        n++;
      } else n += this.#drop(m.e);
    }
    ns.members.clear();
    ns.alive = false;
    this.liveNs--;
    return n;
  }

  codrop(nsH: MHandle | undefined, parentH: MHandle | undefined, recursive: boolean): string | number {
    const n = this.ns(nsH);
    const p = this.ns(parentH);
    if (n === undefined || p === undefined || n.e === this.root) return 'EINVAL';
    if (!n.own) return 'EACCES';
    if (n.e.parent !== p.e) return 'ENOENT';
    if (n.e.members.size > 0 && !recursive) return 'ENOTEMPTY';
    p.e.members.delete(n.e.name);
    return this.#drop(n.e);
  }

  coinsert(name: string, type: ObjTypeName, withObj: boolean, globalObj: boolean, nsH: MHandle | undefined): string | MHandle {
    if (!this.valid(name)) return 'EINVAL';
    const n = this.ns(nsH);
    if (n === undefined) return 'EINVAL';
    if ((type === 'RESERVATION') === withObj) return 'EINVAL';
    if (withObj && globalObj) return 'EINVAL';
    if (!n.write) return 'EACCES';
    if (n.e.members.has(name)) return 'EEXIST';
    if (!this.room(n.e) || this.liveObj >= LIMITS.objects) return 'ENOSPC';
    const e: MObj = { id: this.nextId++, name, type, ns: n.e, alive: true };
    n.e.members.set(name, { kind: 'obj', e });
    this.liveObj++;
    const res = type === 'RESERVATION';
    return { kind: 'obj', e, sealedAs: type, R: true, W: res, D: true };
  }

  coselect(name: string, type: ObjTypeName, nsH: MHandle | undefined): string | MHandle {
    if (!this.valid(name)) return 'EINVAL';
    const n = this.ns(nsH);
    if (n === undefined) return 'EINVAL';
    const m = n.e.members.get(name);
    if (m === undefined || m.kind !== 'obj' || m.e.type !== type) return 'ENOENT';
    return { kind: 'obj', e: m.e, sealedAs: m.e.type, R: true, W: false, D: n.own };
  }

  coupdate(objH: MHandle | undefined, type: ObjTypeName): string | MHandle {
    const o = this.obj(objH);
    if (o === undefined || o.sealedAs !== 'RESERVATION' || type === 'RESERVATION') return 'EINVAL';
    if (!o.W) return 'EPERM';
    if (o.e.type !== 'RESERVATION') return 'ENODEV';
    o.e.type = type;
    return { kind: 'obj', e: o.e, sealedAs: type, R: true, W: false, D: true };
  }

  codelete(objH: MHandle | undefined, nsH: MHandle | undefined): string | undefined {
    const n = this.ns(nsH);
    const o = this.obj(objH);
    if (n === undefined || o === undefined) return 'EINVAL';
    if (!o.D || !n.write) return 'EACCES';
    if (o.e.ns !== n.e) {
      const m = n.e.members.get(o.e.name);
      return m?.kind === 'obj' && m.e.type === o.e.type ? 'EPERM' : 'ENOENT';
    }
    n.e.members.delete(o.e.name);
    o.e.alive = false;
    this.liveObj--;
    return undefined;
  }
}

export type Cmd =
  | { op: 'cocreate'; agent: number; name: number; type: number; parent: number }
  | { op: 'codrop'; agent: number; ns: number; parent: number; recursive: boolean }
  | { op: 'coinsert'; agent: number; name: number; type: number; ns: number; withObj: boolean; globalObj: boolean }
  | { op: 'coselect'; agent: number; name: number; type: number; ns: number }
  | { op: 'coupdate'; agent: number; h: number; type: number }
  | { op: 'codelete'; agent: number; h: number; ns: number };

// Negative indexes count from the newest handle, so chains on fresh handles are common.
const idx = fc.integer({ min: -3, max: 40 });
const agent = fc.nat({ max: 2 });
// Reservations get picked half the time, so insert → select → update chains are common.
const objType = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat({ max: 3 }), weight: 1 });
export const arbCmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ op: fc.constant('cocreate' as const), agent, name: fc.nat({ max: 3 }), type: fc.nat({ max: 4 }), parent: idx }),
  fc.record({ op: fc.constant('codrop' as const), agent, ns: idx, parent: idx, recursive: fc.boolean() }),
  fc.record({ op: fc.constant('coinsert' as const), agent, name: fc.nat({ max: 3 }), type: objType, ns: idx, withObj: fc.boolean(), globalObj: fc.boolean() }),
  fc.record({ op: fc.constant('coselect' as const), agent, name: fc.nat({ max: 3 }), type: objType, ns: idx }),
  fc.record({ op: fc.constant('coupdate' as const), agent, h: idx, type: fc.nat({ max: 3 }) }),
  fc.record({ op: fc.constant('codelete' as const), agent, h: idx, ns: idx }),
);

/** A handle list index as the commands use it: negative counts from the newest handle. */
export function pickIndex(i: number, n: number): number {
  return i < 0 ? Math.max(0, n + i) : i % n;
}

/** The outcome tag of each command according to the model alone ('ok' or an errno name). */
export function modelTags(cmds: readonly Cmd[]): string[] {
  const model = new Model();
  const pick = (i: number): MHandle | undefined => model.handles[pickIndex(i, model.handles.length)];
  return cmds.map((cmd) => {
    const r = applyToModel(model, cmd, pick);
    if (typeof r === 'object' && r !== undefined) model.handles.push(r);
    return typeof r === 'string' ? r : 'ok';
  });
}

/** One command against the model: an errno name, a new handle, or a count/undefined for plain success. */
export function applyToModel(model: Model, cmd: Cmd, pick: (i: number) => MHandle | undefined): string | MHandle | number | undefined {
  switch (cmd.op) {
    case 'cocreate':
      return model.cocreate(NAMES[cmd.name]!, NS_TYPES[cmd.type]!, pick(cmd.parent));
    case 'codrop':
      return model.codrop(pick(cmd.ns), pick(cmd.parent), cmd.recursive);
    case 'coinsert':
      return model.coinsert(NAMES[cmd.name]!, OBJ_TYPES[cmd.type]!, cmd.withObj, cmd.globalObj, pick(cmd.ns));
    case 'coselect':
      return model.coselect(NAMES[cmd.name]!, OBJ_TYPES[cmd.type]!, pick(cmd.ns));
    case 'coupdate':
      return model.coupdate(pick(cmd.h), OBJ_TYPES[cmd.type]!);
    case 'codelete':
      return model.codelete(pick(cmd.h), pick(cmd.ns));
  }
}

export type Call = <D extends AnyOpDecl>(decl: D, args: ArgsOf<D>) => Promise<E.Either<{ readonly _tag: string }, unknown>>;

/** What one command did against a real nsd: its result, and the handle it added (if any). */
export interface Issued {
  readonly got: E.Either<{ readonly _tag: string }, unknown>;
  readonly fresh: Capability | undefined;
}

/**
 * Issue one command through `call`, with handles chosen by `pick` (the same indexes the model
 * uses). Successful cocreate/coinsert/coselect/coupdate add their handle, exactly as in the model.
 */
export async function issueCommand(call: Call, cmd: Cmd, pick: (i: number) => Capability, local: Capability, global: Capability): Promise<Issued> {
  const added = (got: E.Either<{ readonly _tag: string }, unknown>, field: 'ns' | 'nsobj'): Issued => ({
    got,
    fresh: E.isRight(got) ? (got.right as Record<typeof field, Capability>)[field] : undefined,
  });
  switch (cmd.op) {
    case 'cocreate':
      return added(await call(cocreate, { name: NAMES[cmd.name] as never, type: NS_TYPES[cmd.type]!, parent: pick(cmd.parent) }), 'ns');
    case 'codrop':
      return { got: await call(codrop, { ns: pick(cmd.ns), parent: pick(cmd.parent), recursive: cmd.recursive ? 1 : 0 }), fresh: undefined };
    case 'coinsert':
      return added(await call(coinsert, { name: NAMES[cmd.name] as never, type: OBJ_TYPES[cmd.type]!, obj: cmd.withObj ? (cmd.globalObj ? global : local) : undefined, ns: pick(cmd.ns) }), 'nsobj');
    case 'coselect':
      return added(await call(coselect, { name: NAMES[cmd.name] as never, type: OBJ_TYPES[cmd.type]!, ns: pick(cmd.ns) }), 'nsobj');
    case 'coupdate':
      return added(await call(coupdate, { nsobj: pick(cmd.h), type: OBJ_TYPES[cmd.type]!, obj: local }), 'nsobj');
    case 'codelete':
      return { got: await call(codelete, { nsobj: pick(cmd.h), ns: pick(cmd.ns) }), fresh: undefined };
  }
}

/** Replay commands against a real nsd through `call` and return each outcome tag. */
export async function replayTags(call: Call, root: Capability, local: Capability, global: Capability, cmds: readonly Cmd[]): Promise<string[]> {
  const handles: Capability[] = [root];
  const out: string[] = [];
  for (const cmd of cmds) {
    const { got, fresh } = await issueCommand(call, cmd, (i) => handles[pickIndex(i, handles.length)]!, local, global);
    out.push(E.isLeft(got) ? got.left._tag : 'ok');
    if (fresh !== undefined) handles.push(fresh);
  }
  return out;
}
