import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import {
  AddressSpace,
  CAPV_CLOCKS,
  COSETUP_COCALL,
  Tracer,
  answerback,
  cocall,
  cotrace,
  loadProgram,
  startService,
  waitExit,
  writeAnswerback,
  type Capability,
  type CoProcessContext,
  type SysError,
  type TraceEnter,
  type TraceExit,
} from '../src/index.js';

function ok<T>(e: E.Either<SysError, T>): T {
  if (E.isLeft(e)) throw new Error(`unexpected ${e.left._tag}: ${e.left.message}`);
  return e.right;
}

/** A service that answers op 0 with `who` and anything else with 16 bytes of 0xab. */
function answering(who: string, name: string, opts: { slow?: boolean; delayTurns?: number } = {}) {
  return {
    name,
    main: async (ctx: CoProcessContext) => {
      for (let i = 0; i < (opts.delayTurns ?? 0); i++) await ctx.thread.yield();
      const svc = ok(
        startService(
          ctx,
          (call) => {
            if (ctx.machine.loadI32(call.inbuf, 8) === 0) return writeAnswerback(ctx.machine, call.outbuf, who);
            ctx.machine.store(call.outbuf, 0, new Uint8Array(16).fill(0xab));
            return 16;
          },
          { name, ...(opts.slow === true ? { slow: true } : {}) },
        ),
      );
      await svc.serve();
    },
  };
}

test('cocall waits for a callee that is not accepting yet (libc EAGAIN policy)', async (t) => {
  const space = AddressSpace.create();
  let target: Capability | undefined;
  space.spawn({
    name: 'late',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(1));
      target = ok(ctx.thread.coregister('late'));
      await ctx.thread.sleep(100); // registered, but accepting only later
      const inb = ok(ctx.malloc(16));
      ok(await ctx.thread.coaccept(() => 16, { inbuf: inb, outbuf: inb }));
    },
  });
  const outcome: { got?: string | number; when?: number } = {};
  space.spawn({
    name: 'caller',
    main: async (ctx) => {
      await ctx.thread.yield();
      ok(ctx.thread.cosetup(COSETUP_COCALL));
      const buf = ok(ctx.malloc(16));
      t.is(E.isLeft(ctx.thread.cocall(target!, buf, 16, buf, 16)) ? 'EAGAIN' : 'ok', 'EAGAIN');
      const r = await cocall(ctx.thread, target!, buf, 16, buf, 16);
      outcome.got = E.isRight(r) ? r.right : r.left._tag;
      outcome.when = ctx.now();
    },
  });
  await space.run();
  t.deepEqual(outcome, { got: 16, when: 100 });
  await space.shutdown();
});

test('cocall times out on a callee that never accepts, and falls back to the slow path', async (t) => {
  const space = AddressSpace.create();
  space.spawn({
    name: 'never',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(1));
      ok(ctx.thread.coregister('never'));
      await ctx.thread.sleep(60_000);
    },
  });
  space.spawn(answering('slow one', 'slowsvc', { slow: true }));
  const results: string[] = [];
  space.spawn({
    name: 'caller',
    main: async (ctx) => {
      await ctx.thread.yield();
      await ctx.thread.yield();
      ok(ctx.thread.cosetup(COSETUP_COCALL));
      const buf = ok(ctx.malloc(1040));
      const never = await cocall(ctx.thread, ok(ctx.thread.colookup('never')), buf, 16, buf, 16, { timeoutMs: 50 });
      results.push(E.isLeft(never) ? never.left._tag : 'ok');
      const slow = await answerback(ctx.thread, ctx.machine, ok(ctx.thread.colookup('slowsvc')), buf);
      results.push(E.isRight(slow) ? slow.right : slow.left._tag);
    },
  });
  await space.run();
  t.deepEqual(results, ['ETIMEDOUT', 'slow one']);
  await space.shutdown();
});

test('cotrace interposes every capv slot and emits typed enter/exit events', async (t) => {
  const space = AddressSpace.create();
  const enters: TraceEnter[] = [];
  const exits: TraceExit[] = [];
  const tracer = new Tracer((bytes, dir) => (dir === 'call' ? `op ${new DataView(bytes.buffer, bytes.byteOffset).getInt32(8, true)}` : undefined));
  tracer.on('enter', (e) => enters.push(e));
  tracer.on('exit', (e) => exits.push(e));
  const answers: string[] = [];
  let childPid = 0;
  const child = {
    name: 'child',
    main: async (ctx: CoProcessContext) => {
      childPid = ctx.pid;
      ok(ctx.thread.cosetup(COSETUP_COCALL));
      const buf = ok(ctx.malloc(1040));
      for (const slot of [CAPV_CLOCKS, 3]) {
        const who = await answerback(ctx.thread, ctx.machine, ctx.capv[slot]!, buf);
        answers.push(E.isRight(who) ? who.right : who.left._tag);
      }
      ctx.machine.storeI32(buf, 8, 5);
      ok(await cocall(ctx.thread, ctx.capv[3]!, buf, 16, buf, 16));
    },
  };
  let realTargets: Array<Capability | undefined> = [];
  space.spawn({
    name: 'launcher',
    main: async (ctx) => {
      const a = space.spawn(answering('service A', 'a'));
      const b = space.spawn(answering('service B', 'b'));
      void a;
      void b;
      ok(ctx.thread.cosetup(COSETUP_COCALL));
      while (E.isLeft(ctx.thread.colookup('a')) || E.isLeft(ctx.thread.colookup('b'))) await ctx.thread.yield();
      realTargets = [];
      realTargets[CAPV_CLOCKS] = ok(ctx.thread.colookup('a'));
      realTargets[3] = ok(ctx.thread.colookup('b'));
      const traced = ctx.coexecvec(cotrace(child, tracer), undefined, realTargets);
      await waitExit(ctx, traced.exited);
    },
  });
  await space.run();
  t.true(answers[0]!.startsWith('service A -- via cotrace(1), pid '));
  t.true(answers[1]!.startsWith('service B -- via cotrace(1)'));
  t.is(enters.length, 3);
  t.is(exits.length, 3);
  t.deepEqual(enters.map((e) => e.slot), [CAPV_CLOCKS, 3, 3]);
  t.true(enters.every((e) => e.pid === childPid));
  t.true(enters[0]!.target === realTargets[CAPV_CLOCKS]);
  t.deepEqual(enters.map((e) => e.preview.op), [0, 0, 5]);
  t.is(enters[2]!.preview.decoded, 'op 5');
  t.deepEqual(exits.map((e) => e.received), [1040, 1040, 16]);
  t.is(exits[2]!.reply.hex.slice(0, 4), 'abab');
  t.true(exits.every((e) => e.error === undefined));
  await space.shutdown();
});

test('startService reports registration errors as values', async (t) => {
  const space = AddressSpace.create();
  const errors: string[] = [];
  space.spawn({
    name: 'twice',
    main: (ctx) => {
      ok(startService(ctx, () => 0, { name: 'dup' }));
      const other = ctx.spawnThread('second', (th) => {
        const r = startService(ctx, () => 0, { name: 'dup' }, th);
        errors.push(E.isLeft(r) ? r.left._tag : 'ok');
      });
      void other;
      return ctx.thread.yield().then(() => undefined);
    },
  });
  await space.run();
  t.deepEqual(errors, ['EEXIST']);
  await space.shutdown();
});

test('loadProgram: a module exporting main(ctx) runs as a co-process; others are refused', async (t) => {
  const good = await loadProgram(new URL('./fixtures/hello-program.ts', import.meta.url));
  if (E.isLeft(good)) return t.fail(good.left.message);
  t.is(good.right.name, 'hello');
  const lines: string[] = [];
  const space = AddressSpace.create({ stdout: (l) => lines.push(l) });
  const h = space.spawn(good.right, { argv: ['hello', 'world'] });
  await space.run();
  t.is((await h.exited).code, 7);
  t.true(/^hello from pid \d+, argv hello world$/.test(lines[0] ?? ''));
  const bad = await loadProgram(new URL('./fixtures/not-a-program.ts', import.meta.url));
  t.is(E.isLeft(bad) ? bad.left._tag : 'ok', 'ENOEXEC');
  const missing = await loadProgram(new URL('./fixtures/nope.ts', import.meta.url));
  t.is(E.isLeft(missing) ? missing.left._tag : 'ok', 'ENOENT');
});
