/**
 * Fuzzing every daemon op: random 256-byte argument blocks, with capabilities embedded in the
 * capability registers — valid ones of every kind (namespace, object, coport, coservice and
 * coevent handles, buffers, targets) and forged ones (untagged copies, bytes that merely look
 * like a capability) — sent to the worker of every op, and to COPROC_INIT. Properties: every
 * call returns (inline cocalls are synchronous), every reply is a well-formed block, no
 * handler ever throws (pool defects stay 0), no daemon exits, and every daemon's invariant
 * checker passes after each call. CI runs the quick mode; `npm run fuzz` runs the long one.
 */
import test from 'ava';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { ARGS_SIZE, OFF_OP, Reg } from '@comsg/abi';
import { COSETUP_COCALL, Perm, type Capability } from '@comsg/libcoproc';
import { ALL_OPS, cocreate, codiscover, coinsert, colisten, coselect, openCoport } from '@comsg/libcomsg';
import { ok, withKernel } from '../scenarios/_kernel.js';

const RUNS = Number(process.env['COMSG_FUZZ_RUNS'] ?? 4000);
const CAP_SLOTS = [Reg.c0, Reg.c1, Reg.c2, Reg.c3, Reg.c4, Reg.c5].map((r) => r.offset);

test(`fuzz: ${RUNS} random argument blocks to every daemon op leave every daemon serving and consistent`, async (t) => {
  await withKernel(async (ctx, k, _space, kernel) => {
    const m = ctx.machine;
    const block = ok(ctx.malloc(ARGS_SIZE));
    // One worker target per op (and the bootstrap target), as a client would find them.
    const targets: Array<{ name: string; target: Capability }> = [];
    for (const d of ALL_OPS) {
      if (d.daemon === 'coprocd') continue;
      const svc = ok(await coselect(k, d.name, 'COSERVICE', k.root));
      targets.push({ name: d.name, target: ok(await codiscover(k, svc.obj!)).target });
    }
    targets.push({ name: 'COPROC_INIT', target: ok(ctx.thread.colookup('COPROC_INIT')) });
    // Capabilities of every kind a caller could hold, and forgeries of them.
    const buf = ok(ctx.malloc(64));
    const own = ok(await cocreate(k, 'fuzz-own', 'PUBLIC', k.root)).ns;
    const reservation = ok(await coinsert(k, 'fuzz-res', 'RESERVATION', undefined, own));
    const coport = ok(await openCoport(k, 'COCARRIER'));
    const channel = ok(await openCoport(k, 'COCHANNEL'));
    const forecast = ok(await coselect(k, 'COSELECT', 'COSERVICE', k.root)).obj!;
    const coevent = ok(await colisten(k));
    const valid = [k.root, own, reservation, coport, channel, forecast, coevent, buf, m.andPerm(buf, Perm.LOAD), targets[0]!.target];
    const pool = [...valid, ...valid.map((c) => m.clearTag(c))];
    const daemonsAlive = () => Object.values(kernel.status()).every((s) => s.state === 'running');
    let calls = 0;
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    await fc.assert(
      fc.asyncProperty(
        fc.nat(targets.length - 1),
        fc.oneof(fc.constantFrom(...ALL_OPS.map((d) => d.op)), fc.integer({ min: -2, max: 40 }), fc.integer()),
        fc.uint8Array({ minLength: ARGS_SIZE, maxLength: ARGS_SIZE }),
        fc.array(fc.tuple(fc.nat(CAP_SLOTS.length - 1), fc.nat(pool.length - 1)), { maxLength: 6 }),
        fc.integer({ min: 0, max: ARGS_SIZE }),
        async (which, op, bytes, caps, length) => {
          m.store(block, 0, bytes);
          m.storeI32(block, OFF_OP, op);
          for (const [slot, i] of caps) m.storeCap(block, CAP_SLOTS[slot]!, pool[i]!);
          const n = ctx.thread.cocall(targets[which]!.target, block, length, block, ARGS_SIZE);
          calls++;
          if (E.isLeft(n)) return false; // the worker is always there to answer
          const answered =
            op === 0 && length >= 16
              ? Number(m.loadU64(block, 0)) === n.right // the capv answerback convention
              : n.right === ARGS_SIZE && [0, -1].includes(m.loadI32(block, 0));
          if (!answered) return false;
          const problems = Object.entries(kernel.check()).flatMap(([d, p]) => p.map((x) => `${d}: ${x}`));
          if (problems.length > 0) throw new Error(problems.join('; '));
          return daemonsAlive();
        },
      ),
      { numRuns: RUNS },
    );
    const pools = kernel.inspect().pools;
    for (const [daemon, stats] of Object.entries(pools)) t.is(stats.defects, 0, `${daemon} handlers never threw`);
    t.is(kernel.log.filter((e) => e.kind === 'exited').length, 0);
    t.true(calls >= RUNS);
    // Still serving normal requests afterwards.
    t.true(E.isRight(await cocreate(k, 'after-fuzz', 'PUBLIC', k.root)));
  });
});
