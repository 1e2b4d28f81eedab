/**
 * Model-based test of namespace semantics: fast-check drives random sequences of
 * cocreate/codrop/coinsert/coselect/coupdate/codelete, issued by several co-processes over
 * real cocalls into nsd, and compares every outcome (errno or success, and the rights of
 * each returned handle) with a small reference model written from the spec (§2.6, §2.8, §10).
 */
import test from 'ava';
import { fc } from '@fast-check/ava';
import * as E from 'fp-ts/lib/Either.js';
import { Perm, type Capability } from '@comsg/capmachine';
import { cocreate, codelete, codrop, coinsert, coselect, coupdate, ObjRight, type NsTypeName, type ObjTypeName } from '../src/protocol/index.js';
import { nsdWorld, type Agent, type NsdWorld } from './_harness.js';

// Small enough that exhaustion (ENOSPC) is reachable with three valid names.
const LIMITS = { namespaces: 4, objects: 5, membersPerNamespace: 2 };
const NAMES = ['a', 'b', 'c', 'bad/name'] as const;
const NS_TYPES: readonly NsTypeName[] = ['APPLICATION', 'PRIVATE', 'PUBLIC', 'LIBRARY', 'ROOT'];
const OBJ_TYPES: readonly ObjTypeName[] = ['RESERVATION', 'COMMAP', 'COPORT', 'COSERVICE'];

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
type MHandle =
  | { kind: 'ns'; e: MNs; write: boolean; own: boolean }
  | { kind: 'obj'; e: MObj; sealedAs: ObjTypeName; R: boolean; W: boolean; D: boolean };

class Model {
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

// ---- commands ----
interface Real {
  readonly world: NsdWorld;
  readonly handles: Capability[];
  readonly local: Capability;
  readonly global: Capability;
}

type Cmd =
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
const arbCmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ op: fc.constant('cocreate' as const), agent, name: fc.nat({ max: 3 }), type: fc.nat({ max: 4 }), parent: idx }),
  fc.record({ op: fc.constant('codrop' as const), agent, ns: idx, parent: idx, recursive: fc.boolean() }),
  fc.record({ op: fc.constant('coinsert' as const), agent, name: fc.nat({ max: 3 }), type: objType, ns: idx, withObj: fc.boolean(), globalObj: fc.boolean() }),
  fc.record({ op: fc.constant('coselect' as const), agent, name: fc.nat({ max: 3 }), type: objType, ns: idx }),
  fc.record({ op: fc.constant('coupdate' as const), agent, h: idx, type: fc.nat({ max: 3 }) }),
  fc.record({ op: fc.constant('codelete' as const), agent, h: idx, ns: idx }),
);

/** Rights the real handle carries, in the model's terms. */
function realRights(world: NsdWorld, h: Capability): Record<string, boolean | string> | undefined {
  const ns = world.nsd.table.handles.openNs(h);
  if (ns !== undefined) return { kind: 'ns', write: (ns.perms & Perm.SW3) !== 0, own: (ns.perms & (Perm.SW2 | Perm.SW3)) === (Perm.SW2 | Perm.SW3) };
  const o = world.nsd.table.handles.openObj(h);
  if (o !== undefined) return { kind: 'obj', sealedAs: o.type, R: (o.perms & ObjRight.R) !== 0, W: (o.perms & ObjRight.W) !== 0, D: (o.perms & ObjRight.D) !== 0 };
  return undefined;
}

function modelRights(h: MHandle): Record<string, boolean | string> {
  return h.kind === 'ns' ? { kind: 'ns', write: h.write, own: h.own } : { kind: 'obj', sealedAs: h.sealedAs, R: h.R, W: h.W, D: h.D };
}

/** Every (op, outcome) pair seen, to check the runs really covered the semantics. */
const outcomes = new Set<string>();

async function step(model: Model, real: Real, cmd: Cmd): Promise<string | undefined> {
  const a: Agent = real.world.agents[cmd.agent]!;
  const pick = (i: number): [MHandle | undefined, Capability | undefined] => {
    const n = model.handles.length;
    const at = i < 0 ? Math.max(0, n + i) : i % n;
    return [model.handles[at], real.handles[at]];
  };
  const name = (i: number): string => NAMES[i]!;
  let expected: string | MHandle | number | undefined;
  let got: E.Either<{ _tag: string }, unknown>;
  let newHandle: Capability | undefined;
  switch (cmd.op) {
    case 'cocreate': {
      const [mh, rh] = pick(cmd.parent);
      const type = NS_TYPES[cmd.type]!;
      expected = model.cocreate(name(cmd.name), type, mh);
      got = await a.call(cocreate, { name: name(cmd.name) as never, type, parent: rh! });
      if (E.isRight(got)) newHandle = (got.right as { ns: Capability }).ns;
      break;
    }
    case 'codrop': {
      const [mn, rn] = pick(cmd.ns);
      const [mp, rp] = pick(cmd.parent);
      expected = model.codrop(mn, mp, cmd.recursive);
      got = await a.call(codrop, { ns: rn!, parent: rp!, recursive: cmd.recursive ? 1 : 0 });
      if (E.isRight(got) && typeof expected === 'number' && (got.right as { removed: number }).removed !== expected) {
        return `codrop removed ${(got.right as { removed: number }).removed}, model ${expected}`;
      }
      break;
    }
    case 'coinsert': {
      const [mh, rh] = pick(cmd.ns);
      const type = OBJ_TYPES[cmd.type]!;
      expected = model.coinsert(name(cmd.name), type, cmd.withObj, cmd.globalObj, mh);
      const obj = cmd.withObj ? (cmd.globalObj ? real.global : real.local) : undefined;
      got = await a.call(coinsert, { name: name(cmd.name) as never, type, obj, ns: rh! });
      if (E.isRight(got)) newHandle = (got.right as { nsobj: Capability }).nsobj;
      break;
    }
    case 'coselect': {
      const [mh, rh] = pick(cmd.ns);
      const type = OBJ_TYPES[cmd.type]!;
      expected = model.coselect(name(cmd.name), type, mh);
      got = await a.call(coselect, { name: name(cmd.name) as never, type, ns: rh! });
      if (E.isRight(got)) {
        const r = got.right as { nsobj: Capability; obj: Capability | undefined };
        newHandle = r.nsobj;
        if ((type === 'RESERVATION') !== (r.obj === undefined)) return 'coselect returned the wrong stored object';
        if (r.obj !== undefined && !r.obj.equalsExact(real.local)) return 'coselect returned a different object';
      }
      break;
    }
    case 'coupdate': {
      const [mh, rh] = pick(cmd.h);
      const type = OBJ_TYPES[cmd.type]!;
      expected = model.coupdate(mh, type);
      got = await a.call(coupdate, { nsobj: rh!, type, obj: real.local });
      if (E.isRight(got)) newHandle = (got.right as { nsobj: Capability }).nsobj;
      break;
    }
    case 'codelete': {
      const [mh, rh] = pick(cmd.h);
      const [mn, rn] = pick(cmd.ns);
      expected = model.codelete(mh, mn);
      got = await a.call(codelete, { nsobj: rh!, ns: rn! });
      break;
    }
  }
  const expTag = typeof expected === 'string' ? expected : 'ok';
  const gotTag = E.isLeft(got) ? got.left._tag : 'ok';
  outcomes.add(`${cmd.op}:${gotTag}`);
  if (expTag !== gotTag) return `${cmd.op}: model says ${expTag}, nsd says ${gotTag}`;
  if (newHandle !== undefined && typeof expected === 'object') {
    const rr = realRights(real.world, newHandle);
    const mr = modelRights(expected);
    if (JSON.stringify(rr) !== JSON.stringify(mr)) return `${cmd.op}: handle rights ${JSON.stringify(rr)} vs model ${JSON.stringify(mr)}`;
    model.handles.push(expected);
    real.handles.push(newHandle);
  }
  const problems = real.world.nsd.table.check();
  if (problems.length > 0) return `invariants broken after ${cmd.op}: ${problems.join('; ')}`;
  const counts = real.world.nsd.table.counts;
  if (counts.namespaces !== model.liveNs || counts.objects !== model.liveObj) {
    return `table counts ${JSON.stringify(counts)} vs model ${model.liveNs}/${model.liveObj}`;
  }
  return undefined;
}

async function runModel(numRuns: number, seed?: number): Promise<number> {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(arbCmd, { minLength: 1, maxLength: 60, size: 'max' }), async (cmds) => {
      runs++;
      const world = await nsdWorld({ agents: 3, limits: LIMITS });
      try {
        const [local, global] = await world.agents[0]!.exec((ctx) => {
          const g = E.getOrElseW(() => {
            throw new Error('malloc');
          })(ctx.malloc(16));
          return [ctx.machine.andPerm(g, Perm.LOAD | Perm.STORE), g] as const;
        });
        const real: Real = { world, handles: [world.nsd.root], local, global };
        const model = new Model();
        for (const cmd of cmds) {
          const problem = await step(model, real, cmd);
          if (problem !== undefined) throw new Error(`${problem}\n  after: ${JSON.stringify(cmds.slice(0, cmds.indexOf(cmd) + 1))}`);
        }
        return true;
      } finally {
        await world.close();
      }
    }),
    { numRuns, ...(seed === undefined ? {} : { seed }) },
  );
  return runs;
}

test('model-based, fixed seed: random namespace operations from three co-processes match the model, covering every outcome', async (t) => {
  outcomes.clear();
  t.is(await runModel(500, 20261123), 500);
  // Coverage: the programs reach successes and each interesting error (deterministic: fixed seed).
  for (const must of [
    'cocreate:ok', 'cocreate:EEXIST', 'cocreate:EINVAL', 'cocreate:ENOSPC',
    'coinsert:ok', 'coinsert:EEXIST', 'coinsert:EINVAL', 'coinsert:ENOSPC',
    'coselect:ok', 'coselect:ENOENT',
    'coupdate:ok', 'coupdate:EPERM', 'coupdate:EINVAL',
    'codelete:ok', 'codelete:EACCES', 'codelete:EINVAL',
    'codrop:ok', 'codrop:EACCES', 'codrop:EINVAL',
  ]) {
    t.true(outcomes.has(must), `never saw ${must}; saw ${[...outcomes].sort().join(' ')}`);
  }
});

test('model-based, fresh seed: new random programs still match the model', async (t) => {
  t.is(await runModel(200), 200);
});
