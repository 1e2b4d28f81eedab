import test from 'ava';
import { fc } from '@fast-check/ava';
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, COSETUP_COCALL, sysError, type Capability, type CoProcessContext, type SysError } from '@comsg/capmachine';
import { ARGS_SIZE, NameC, OFF_OP, Op, Reg, TaggedCapC, bind, defineOp, renderOpTable, startPool, ukernCall, type WorkerPool } from '../src/index.js';

// A toy op borrowed from the registry's number space, for exercising the machinery.
const Echo = defineOp({
  name: 'COPROC_INIT_DONE',
  daemon: 'coprocd',
  summary: 'test op: echoes a name, adds to a number, returns the capability it got',
  args: t.type({ name: NameC, n: t.number, cap: TaggedCapC }),
  argSlots: { name: Reg.name, n: Reg.i0, cap: Reg.c0 },
  result: t.type({ n: t.number, cap: TaggedCapC, name: t.string }),
  resultSlots: { n: Reg.i1, cap: Reg.c1, name: Reg.name },
  errors: ['EPERM'],
});

function ok<T>(e: E.Either<SysError, T>): T {
  if (E.isLeft(e)) throw new Error(`${e.left._tag}: ${e.left.message}`);
  return e.right;
}

async function withDaemon(body: (ctx: CoProcessContext, pool: WorkerPool, block: Capability) => Promise<void>): Promise<WorkerPool> {
  const space = AddressSpace.create();
  let pool: WorkerPool | undefined;
  let error: unknown;
  space.spawn({
    name: 'toyd',
    main: async (ctx) => {
      pool = ok(
        await startPool(ctx, [
          bind(Echo, ({ name, n, cap }) => {
            if (n === 13) throw new Error('handler bug');
            if (n < 0) return E.left(sysError('EPERM', 'COPROC_INIT_DONE', 'negative'));
            return E.right({ n: n + 1, cap, name: name.toUpperCase() });
          }),
        ], { workers: 2 }),
      );
      await ctx.thread.park(new Promise(() => {}));
    },
  });
  space.spawn({
    name: 'client',
    main: async (ctx) => {
      while (pool === undefined) await ctx.thread.yield();
      ok(ctx.thread.cosetup(COSETUP_COCALL));
      try {
        await body(ctx, pool, ok(ctx.malloc(ARGS_SIZE)));
      } catch (e) {
        error = e;
      }
    },
  });
  await space.run();
  await space.shutdown();
  if (error !== undefined) throw error;
  return pool!;
}

test('a declared op round-trips through the block: arguments, results, capabilities', async (t) => {
  await withDaemon(async (ctx, pool, block) => {
    const gift = ok(ctx.malloc(32));
    const r = ok(await ukernCall(ctx.thread, ctx.machine, block, pool.targets[0]!, Echo, { name: 'abc' as never, n: 41, cap: gift }));
    t.is(r.n, 42);
    t.is(r.name, 'ABC');
    t.true(r.cap.equalsExact(gift));
  });
});

test('errors: declared errno, EINVAL before and after the wire, ENOSYS, EDEFECT — and the daemon keeps serving', async (t) => {
  const pool = await withDaemon(async (ctx, pool, block) => {
    const gift = ok(ctx.malloc(32));
    const call = (args: unknown) => ukernCall(ctx.thread, ctx.machine, block, pool.targets[1]!, Echo, args as never);
    const tag = async (args: unknown) => {
      const r = await call(args);
      return E.isLeft(r) ? r.left._tag : 'ok';
    };
    t.is(await tag({ name: 'x', n: -1, cap: gift }), 'EPERM');
    t.is(await tag({ name: 'bad/name', n: 1, cap: gift }), 'EINVAL'); // refused by the client codec
    t.is(await tag({ name: 'x', n: 13, cap: gift }), 'EDEFECT');
    // Write a raw block the client codec would never produce: untagged capability.
    ctx.machine.storeCap(block, Reg.c0.offset, ctx.machine.clearTag(gift));
    ctx.machine.storeI32(block, OFF_OP, Op.COPROC_INIT_DONE);
    const raw = ok(ctx.thread.cocall(pool.targets[0]!, block, ARGS_SIZE, block, ARGS_SIZE));
    t.is(raw, ARGS_SIZE);
    t.is(ctx.machine.loadI32(block, 0), -1);
    t.is(ctx.machine.loadI32(block, 4), 22); // EINVAL from the server's decoder
    ctx.machine.storeI32(block, OFF_OP, 999);
    ok(ctx.thread.cocall(pool.targets[0]!, block, ARGS_SIZE, block, ARGS_SIZE));
    t.is(ctx.machine.loadI32(block, 4), 78); // ENOSYS
    t.is(await tag({ name: 'still-alive', n: 1, cap: gift }), 'ok');
    // In-place replies: after a reply put a capability in c1, a failing call's reply carries
    // only what this caller sent in the slots the failure does not write (here: NULL).
    ctx.machine.store(block, 0, new Uint8Array(ARGS_SIZE));
    ctx.machine.storeI32(block, OFF_OP, 999);
    ok(ctx.thread.cocall(pool.targets[1]!, block, ARGS_SIZE, block, ARGS_SIZE));
    t.is(ctx.machine.loadI32(block, 4), 78);
    t.false(ctx.machine.loadCap(block, Reg.c1.offset).tag);
  });
  t.is(pool.stats.defects, 1);
});

test('fuzz: random argument blocks never break a worker', async (t) => {
  await withDaemon(async (ctx, pool, block) => {
    const m = ctx.machine;
    const gift = ok(ctx.malloc(32));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: ARGS_SIZE, maxLength: ARGS_SIZE }), fc.boolean(), fc.integer({ min: 0, max: 24 }), async (bytes, withCap, op) => {
        m.store(block, 0, bytes);
        m.storeI32(block, OFF_OP, op);
        if (withCap) m.storeCap(block, Reg.c0.offset, gift);
        const n = ctx.thread.cocall(pool.targets[0]!, block, ARGS_SIZE, block, ARGS_SIZE);
        if (E.isLeft(n)) return false;
        // Op 0 is the capv answerback: a packet whose len is the reply size, op 0.
        if (op === 0) return Number(m.loadU64(block, 0)) === n.right && m.loadI32(block, OFF_OP) === 0;
        const status = m.loadI32(block, 0);
        return status === 0 || status === -1;
      }),
      { numRuns: 300 },
    );
    t.true(E.isRight(await ukernCall(ctx.thread, m, block, pool.targets[0]!, Echo, { name: 'ok' as never, n: 1, cap: gift })));
  });
});

test('the docs table is derived from the declarations', (t) => {
  const table = renderOpTable([Echo]);
  t.regex(table, /\| 19 \| `COPROC_INIT_DONE` \| coprocd \| fast \| name, n, cap \| n, cap, name \| EPERM \|/);
});
