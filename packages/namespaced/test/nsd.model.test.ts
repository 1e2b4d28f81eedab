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
import { ObjRight } from '../src/protocol/index.js';
import { LIMITS, OBJ_TYPES, Model, applyToModel, arbCmd, issueCommand, pickIndex, type Cmd, type MHandle } from './_model.js';
import { nsdWorld, type Agent, type NsdWorld } from './_harness.js';

interface Real {
  readonly world: NsdWorld;
  readonly handles: Capability[];
  readonly local: Capability;
  readonly global: Capability;
}

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
  const at = (i: number): number => pickIndex(i, model.handles.length);
  const expected = applyToModel(model, cmd, (i) => model.handles[at(i)]);
  const { got, fresh: newHandle } = await issueCommand(a.call, cmd, (i) => real.handles[at(i)]!, real.local, real.global);
  // What the outcome tag alone does not show: the count codrop removed, the object coselect returned.
  if (cmd.op === 'codrop' && E.isRight(got) && typeof expected === 'number' && (got.right as { removed: number }).removed !== expected) {
    return `codrop removed ${(got.right as { removed: number }).removed}, model ${expected}`;
  }
  if (cmd.op === 'coselect' && E.isRight(got)) {
    const r = got.right as { obj: Capability | undefined };
    if ((OBJ_TYPES[cmd.type] === 'RESERVATION') !== (r.obj === undefined)) return 'coselect returned the wrong stored object';
    if (r.obj !== undefined && !r.obj.equalsExact(real.local)) return 'coselect returned a different object';
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
