import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, COSETUP_COCALL, Perm, bootMicrokernel, createAddressSpace, cocall, startService, waitExit, type CoProcessContext, type SysError } from '@comsg/libcoproc';
import { ccbInstall, ccbRegister, cocreate, codiscover, coinsert, colisten, coprocInit, coselect, provideService, type UkernThread } from '@comsg/libcomsg';
import { ARGS_SIZE, Op } from '@comsg/abi';
import { ok, tagOf, until, withKernel } from './_kernel.js';


test('boot: coprocd starts nsd, coserviced, coeventd, ipcd in order and publishes every op in root', async (t) => {
  const events: string[] = [];
  await withKernel(
    async (ctx, k) => {
      for (const name of ['COCREATE', 'COINSERT', 'COSELECT', 'CODELETE', 'CODROP', 'COUPDATE', 'COPROVIDE', 'CODISCOVER', 'COLISTEN', 'CCB_INSTALL', 'CCB_REGISTER', 'COOPEN', 'COCLOSE', 'COSEND', 'CORECV', 'COPORT_MSG_FREE', 'COPORT_ENTRY']) {
        const found = await coselect(k, name, 'COSERVICE', k.root);
        t.true(E.isRight(found), `${name} is published`);
      }
      t.is(tagOf(ctx.thread.colookup('COPROC_INIT')), 'ok');
    },
  ).then(() => undefined);
  // The order of start-up, from a fresh boot's event log.
  const space = AddressSpace.create({ stdout: () => {} });
  const kernel = bootMicrokernel(space);
  kernel.events.on('event', (e) => events.push(e.kind === 'started' ? `started ${e.daemon}` : e.kind));
  ok(await kernel.ready);
  t.deepEqual(events, ['started nsd', 'started coserviced', 'started coeventd', 'started ipcd', 'ready']);
  t.deepEqual(Object.values(kernel.status()).map((s) => s.state), ['running', 'running', 'running', 'running']);
  await space.shutdown();
});

for (const runtime of ['inline', 'threads'] as const) {
  test(`[${runtime}] boot: a daemon that dies before it reports fails the boot at once with its exit status, not at the boot timeout`, async (t) => {
    const space = createAddressSpace({ runtime, stdout: () => {} });
    // maxChannelBytes 0 makes ipcd refuse to start; the timeout is long enough that waiting it out would fail the test.
    const kernel = bootMicrokernel(space, { ipcd: { limits: { maxChannelBytes: 0 } }, bootTimeoutMs: 3_600_000 });
    const up = await kernel.ready;
    await space.shutdown();
    if (E.isRight(up)) return t.fail('boot succeeded');
    t.is(up.left._tag, 'ENXIO');
    t.regex(up.left.message, /ipcd exited before it reported \(returned, 1\)/);
    t.deepEqual(kernel.log.map((e) => e.kind), ['started', 'started', 'started', 'boot-failed']);
  });
}

test('libcomsg namespace calls return typed errors, never throw', async (t) => {
  await withKernel(async (ctx, k) => {
    const app = ok(await cocreate(k, 'myapp', 'APPLICATION', k.root));
    t.true(app.created);
    t.is(tagOf(await cocreate(k, 'x'.repeat(92), 'PUBLIC', k.root)), 'ENAMETOOLONG');
    t.is(tagOf(await cocreate(k, 'has space', 'PUBLIC', k.root)), 'EINVAL');
    t.is(tagOf(await coinsert(k, 'n', 'COPORT', undefined, app.ns)), 'EINVAL');
    const port = ctx.machine.andPerm(ok(ctx.malloc(16)), Perm.LOAD);
    ok(await coinsert(k, 'n', 'COPORT', port, app.ns));
    t.is(tagOf(await coinsert(k, 'n', 'COPORT', port, app.ns)), 'EEXIST');
    t.is(tagOf(await coselect(k, 'missing', 'COPORT', app.ns)), 'ENOENT');
    // A user cannot squat or delete the microkernel's own entries through the shared root: D is owner-only.
    const svc = ok(await coselect(k, 'COINSERT', 'COSERVICE', k.root));
    const { codelete } = await import('@comsg/libcomsg');
    t.is(tagOf(await codelete(k, svc.nsobj, k.root)), 'EACCES');
  });
});

test('libcomsg never throws on garbage arguments: every one is an error value', async (t) => {
  await withKernel(async (_ctx, k) => {
    const junk = [undefined, null, 42, 'root', {}, { tag: true, address: 0n }] as unknown[];
    for (const bad of junk) {
      t.is(tagOf(await coselect(k, 'x', 'COPORT', bad as never)), 'EINVAL');
      t.is(tagOf(await cocreate(k, 'x', 'PUBLIC', bad as never)), 'EINVAL');
      t.is(tagOf(await coinsert(k, 'x', 'COPORT', bad as never, k.root)), 'EINVAL');
    }
    t.is(tagOf(await cocreate(k, 'x', 'BOGUS' as never, k.root)), 'EINVAL');
    t.is(tagOf(await coselect(k, 7 as never, 'COPORT', k.root)), 'EINVAL');
    t.is(tagOf(await colisten(k)), 'ok');
  });
});

test('a SLOWPATH coservice: discovery reports it and calls reach its slow-path workers', async (t) => {
  await withKernel(async (ctx, k) => {
    let ready = false;
    let slowCalls = 0;
    ctx.coexecve({
      name: 'slow-provider',
      main: async (pctx) => {
        const pk = ok(await coprocInit(pctx));
        const svc = ok(await provideService(pctx, pk, (call) => {
          if (call.slow) slowCalls++;
          return 0;
        }, { name: 'slowsvc', workers: 2, slow: true }));
        ready = true;
        await svc.serve();
      },
    });
    await until(ctx, () => ready);
    const sel = ok(await coselect(k, 'slowsvc', 'COSERVICE', k.root));
    const w = ok(await codiscover(k, sel.obj!));
    t.true(w.slow);
    const buf = ok(ctx.malloc(16));
    t.is(tagOf(ctx.thread.cocall(w.target, buf, 16, buf, 16)), 'EPROTOTYPE');
    t.is(ok(await cocall(ctx.thread, w.target, buf, 16, buf, 16)), 0);
    t.is(slowCalls, 1);
  });
});

test('coservices: a provider publishes a worker pool, clients discover workers in fair round robin', async (t) => {
  await withKernel(async (ctx, k) => {
    const app = ok(await cocreate(k, 'svcapp', 'APPLICATION', k.root));
    let providerReady = false;
    const served = new Map<string, number>();
    ctx.coexecve({
      name: 'provider',
      main: async (pctx) => {
        const pk = ok(await coprocInit(pctx));
        const svc = ok(
          await provideService(pctx, pk, (call) => {
            const key = String(call.inbuf.address);
            served.set(key, (served.get(key) ?? 0) + 1);
            pctx.machine.storeU32(call.outbuf, 0, 1234);
            return 4;
          }, { name: 'echo', ns: app.ns, workers: 3 }),
        );
        providerReady = true;
        await svc.serve();
      },
    });
    await until(ctx, () => providerReady);
    const selected = ok(await coselect(k, 'echo', 'COSERVICE', app.ns));
    const buf = ok(ctx.malloc(64));
    const picks: string[] = [];
    for (let i = 0; i < 6; i++) {
      const w = ok(await codiscover(k, selected.obj!));
      picks.push(String(w.target.address));
      t.is(ok(await cocall(ctx.thread, w.target, buf, 16, buf, 16)), 4);
      t.is(ctx.machine.loadU32(buf, 0), 1234);
    }
    // Each of the 3 workers exactly twice (comsg picked worker 0 twice per cycle).
    t.deepEqual([...new Set(picks)].length, 3);
    t.deepEqual(picks.slice(0, 3), picks.slice(3));
    t.deepEqual([...served.values()], [2, 2, 2]);
  });
});

test('death events: callbacks fire in order when the subject exits; a failing one is reported, not fatal', async (t) => {
  const fired: number[] = [];
  let installed = false;
  await withKernel(async (ctx, k) => {
    const arg = ok(ctx.malloc(64));
    // The callback provider: a thread serving callbacks.
    const cbThread = ctx.spawnThread('cb-good', async (th) => void (await th.park(new Promise(() => {}))));
    const good = ok(startService(ctx, (call) => {
      fired.push(ctx.machine.loadU32(call.inbuf, 0));
      return 0;
    }, {}, cbThread));
    const goodFn = ok(await ccbRegister(k, good.target));
    // A callback function whose thread never accepts: calling it times out.
    const never = ctx.spawnThread('cb-never', async (th) => void (await th.sleep(60_000)));
    await ctx.thread.yield();
    const neverFn = ok(await ccbRegister(k, ok(never.coregister())));
    // The subject: listens for its own death, hands the event out, waits, exits.
    let event: import('@comsg/libcoproc').Capability | undefined;
    let integrity = '';
    const subject = ctx.coexecve({
      name: 'subject',
      main: async (sctx) => {
        const sk = ok(await coprocInit(sctx));
        event = ok(await colisten(sk));
        const other = await sk.call((await import('@comsg/coprocd/protocol')).colisten, { event: 0, pid: sctx.pid + 1000 });
        integrity = tagOf(other);
        await until(sctx, () => installed);
      },
    });
    await until(ctx, () => event !== undefined);
    t.is(integrity, 'EINTEGRITY');
    for (const n of [1, 2, 3]) {
      ctx.machine.storeU32(arg, 0, n);
      ok(await ccbInstall(k, goodFn, event!, { buffer: arg, length: 16 }));
      if (n === 2) ok(await ccbInstall(k, neverFn, event!));
    }
    // The argument bytes were copied at install time: changing them now changes nothing.
    ctx.machine.storeU32(arg, 0, 99);
    installed = true;
    await waitExit(ctx, subject.exited);
    await until(ctx, () => fired.length >= 3, 10_000, 10);
    // coeventd is alive and serving after a failed callback.
    t.is(tagOf(await colisten(k)), 'ok');
  });
  t.deepEqual(fired, [1, 2, 3]);
});

test('supervision: a restarted coeventd serves again; a stopped nsd makes COPROC_INIT answer ENXIO', async (t) => {
  await withKernel(
    async (ctx, k, space, kernel) => {
      ok(await colisten(k));
      const before = kernel.status().coeventd.pid;
      ok(space.kill(before));
      await until(ctx, () => kernel.status().coeventd.state === 'running' && kernel.status().coeventd.pid !== before);
      t.is(kernel.status().coeventd.restarts, 1);
      // The cached worker target is gone; the session rediscovers the new daemon.
      t.is(tagOf(await colisten(k)), 'ok');
      // Other daemons never noticed.
      t.is(tagOf(await cocreate(k, 'still-works', 'PUBLIC', k.root)), 'ok');
      ok(space.kill(kernel.status().nsd.pid));
      await until(ctx, () => kernel.status().nsd.state === 'stopped');
      const late = ctx.coexecve({
        name: 'late-joiner',
        main: async (lctx) => {
          t.is(tagOf(await coprocInit(lctx, { timeoutMs: 100 })), 'ENXIO');
        },
      });
      await waitExit(ctx, late.exited);
      // coserviced still answers (a discovery through the cached target).
      t.is(kernel.status().coserviced.state, 'running');
      const kinds = kernel.log.map((e) => (e.kind === 'exited' || e.kind === 'restarted' || e.kind === 'stopped' ? `${e.kind} ${e.daemon}` : e.kind));
      t.deepEqual(kinds.slice(5), ['exited coeventd', 'restarted coeventd', 'exited nsd', 'stopped nsd']);
    },
  );
});

test('garbage argument blocks to every daemon op never take a daemon down', async (t) => {
  await withKernel(async (ctx, k, _space, kernel) => {
    const m = ctx.machine;
    const block = ok(ctx.malloc(ARGS_SIZE));
    const junk = ok(ctx.malloc(64));
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 256);
    const ops = [Op.COCREATE, Op.CODROP, Op.COINSERT, Op.COSELECT, Op.COUPDATE, Op.CODELETE, Op.COPROVIDE, Op.COPROVIDE2, Op.CODISCOVER, Op.CODISCOVER2, Op.COLISTEN, Op.CCB_REGISTER, Op.CCB_INSTALL, Op.COOPEN, Op.COCLOSE, Op.COSEND, Op.CORECV, Op.COPORT_MSG_FREE, Op.COPORT_ENTRY, 0, 77];
    const names = ['COCREATE', 'CODROP', 'COINSERT', 'COSELECT', 'COUPDATE', 'CODELETE', 'COPROVIDE', 'COPROVIDE2', 'CODISCOVER', 'CODISCOVER2', 'COLISTEN', 'CCB_REGISTER', 'CCB_INSTALL', 'COOPEN', 'COCLOSE', 'COSEND', 'CORECV', 'COPORT_MSG_FREE', 'COPORT_ENTRY'];
    const targets = [];
    for (const n of names) {
      const svc = ok(await coselect(k, n, 'COSERVICE', k.root));
      targets.push(ok(await codiscover(k, svc.obj!)).target);
    }
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    let statuses = 0;
    for (let round = 0; round < 40; round++) {
      for (const target of targets) {
        const bytes = Uint8Array.from({ length: ARGS_SIZE }, rnd);
        m.store(block, 0, bytes);
        m.storeI32(block, 8, ops[round % ops.length]!);
        if (round % 3 === 0) m.storeCap(block, 16 + (round % 6) * 16, round % 2 ? junk : k.root);
        const op = ops[round % ops.length]!;
        const n = ctx.thread.cocall(target, block, ARGS_SIZE, block, ARGS_SIZE);
        // Op 0 asks for the capv answerback: a packet whose len is the reply size.
        const answered = E.isRight(n) && (op === 0 ? Number(m.loadU64(block, 0)) === n.right && m.loadI32(block, 8) === 0 : m.loadI32(block, 0) === -1 || m.loadI32(block, 0) === 0);
        if (answered) statuses++;
      }
    }
    t.is(statuses, 40 * targets.length);
    t.deepEqual(Object.values(kernel.status()).map((s) => s.state), ['running', 'running', 'running', 'running']);
    t.is(kernel.log.filter((e) => e.kind === 'exited').length, 0);
    t.is(tagOf(await cocreate(k, 'after-fuzz', 'PUBLIC', k.root)), 'ok');
  });
});
