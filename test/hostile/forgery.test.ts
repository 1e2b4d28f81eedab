/**
 * A hostile co-process against the microkernel: forged capabilities, widened authority,
 * handles of the wrong kind, stale and revoked handles, oversize and empty messages, and a
 * co-process that dies with its buffer in flight. Every attempt is a typed error, and the
 * daemons keep serving everyone else.
 */
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { Perm, PermSet, type Capability } from '@comsg/libcoproc';
import { coclose, cocreate, codelete, coinsert, coprocInit, corecv, corestrict, coselect, cosend, coupdate, openCoport, CoportRight } from '@comsg/libcomsg';
import { ok, tagOf, withKernel } from '../scenarios/_kernel.js';

test('bytes that look like a capability are never one; copying capabilities needs LOAD_CAP/STORE_CAP', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const buf = ok(ctx.malloc(64));
    // Write the exact 16 bytes of a real handle as data: the tag stays clear.
    m.storeCap(buf, 0, k.root);
    const raw = m.load(buf, 0, 16);
    m.store(buf, 16, raw);
    const forged = m.loadCap(buf, 16);
    t.false(forged.tag);
    t.is(tagOf(await coselect(k, 'COCREATE', 'COSERVICE', forged)), 'EINVAL');
    // A view without LOAD_CAP reads capabilities untagged; without STORE_CAP cannot store them.
    const noLoadCap = m.andPerm(buf, Perm.LOAD | Perm.STORE | Perm.GLOBAL);
    t.false(m.loadCap(noLoadCap, 0).tag);
    const r = m.attempt((mm) => mm.storeCap(noLoadCap, 32, k.root));
    t.true(E.isLeft(r));
  });
});

test('bounds and permissions only shrink: widening gives untagged results, and daemons refuse them', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const buf = ok(ctx.malloc(64));
    const small = m.restrict(buf, 0n, 16n, PermSet.DATA);
    t.false(m.setBounds(small, 64n).tag, 'a wider bound is untagged');
    const ro = m.andPerm(buf, Perm.LOAD | Perm.GLOBAL);
    t.false(m.andPerm(ro, PermSet.DATA).perms & Perm.STORE ? true : false, 'STORE does not come back');
    const port = ok(await openCoport(k, 'COCHANNEL'));
    const sendOnly = ok(await corestrict(k, port, CoportRight.SEND));
    t.is(tagOf(await corestrict(k, sendOnly, CoportRight.SEND | CoportRight.RECV)), 'ok', 'asking for more is allowed…');
    t.is(tagOf(await corecv(k, ok(await corestrict(k, sendOnly, CoportRight.RECV | CoportRight.SEND)), buf, 8, { timeoutMs: 0 })), 'EACCES', '…but grants nothing new');
    // A read-only buffer cannot be a receive buffer.
    t.is(tagOf(await corecv(k, port, ro, 8, { timeoutMs: 0 })), 'EACCES');
  });
});

test('handles of the wrong kind, and sealed handles of another type, are EINVAL at every daemon', async (t) => {
  await withKernel(async (ctx, k) => {
    const port = ok(await openCoport(k, 'COCARRIER'));
    const res = ok(await coinsert(k, 'res', 'RESERVATION', undefined, k.root));
    const buf = ok(ctx.malloc(64));
    // A coport where a namespace goes, a namespace where a coport goes, an object handle where a namespace goes.
    t.is(tagOf(await coselect(k, 'x', 'COPORT', port)), 'EINVAL');
    t.is(tagOf(await cocreate(k, 'x', 'PUBLIC', res)), 'EINVAL');
    t.is(tagOf(await cosend(k, k.root, buf, 8)), 'EINVAL');
    t.is(tagOf(await coclose(k, res)), 'EINVAL');
    t.is(tagOf(await coupdate(k, port, 'COPORT', buf)), 'EINVAL');
    t.is(tagOf(await codelete(k, port, k.root)), 'EINVAL');
  });
});

test('stale handles stay dead: a closed coport, a deleted object, a dropped namespace', async (t) => {
  await withKernel(async (ctx, k) => {
    const buf = ok(ctx.malloc(64));
    const port = ok(await openCoport(k, 'COCARRIER'));
    ok(await coclose(k, port));
    t.is(tagOf(await cosend(k, port, buf, 8)), 'EPIPE');
    const ns = ok(await cocreate(k, 'stale', 'PUBLIC', k.root)).ns;
    const obj = ok(await coinsert(k, 'o', 'RESERVATION', undefined, ns));
    ok(await codelete(k, obj, ns));
    t.is(tagOf(await codelete(k, obj, ns)), 'EINVAL');
    t.is(tagOf(await coupdate(k, obj, 'COPORT', ctx.machine.andPerm(buf, Perm.LOAD))), 'EINVAL');
    // The slot is reused by a new object: the old handle names nothing.
    const again = ok(await coinsert(k, 'o', 'RESERVATION', undefined, ns));
    t.not(again, obj);
    t.is(tagOf(await codelete(k, obj, ns)), 'EINVAL');
  });
});

test('oversize and zero-length messages are typed errors on every coport type', async (t) => {
  await withKernel(async (ctx, k) => {
    const big = ok(ctx.malloc((1 << 16) + 16));
    for (const type of ['COCHANNEL', 'COPIPE', 'COCARRIER'] as const) {
      const port = ok(await openCoport(k, type));
      t.not(tagOf(await cosend(k, port, big, (1 << 16) + 1, { timeoutMs: 0 })), 'ok', `${type} oversize`);
      t.not(tagOf(await cosend(k, port, big, 0, { timeoutMs: 0 })), 'ok', `${type} zero-length`);
      t.not(tagOf(await cosend(k, port, big, -1, { timeoutMs: 0 })), 'ok', `${type} negative`);
      t.is(tagOf(await cosend(k, port, big, 1.5, { timeoutMs: 0 })), 'EINVAL', `${type} fractional`);
    }
  });
});

test('a receiver that dies with its buffer published: the sender gets an error, ipcd serves on', async (t) => {
  await withKernel(async (ctx, k, space, kernel) => {
    const port = ok(await openCoport(k, 'COPIPE'));
    const receiver = ctx.coexecvec(
      {
        name: 'doomed-receiver',
        main: async (rctx) => {
          const rk = ok(await coprocInit(rctx));
          const rbuf = ok(rctx.malloc(64));
          // Publishes rbuf and waits; killed below before any sender comes.
          await corecv(rk, rctx.capv[0]!, rbuf, 64, { timeoutMs: 60_000 });
        },
      },
      undefined,
      [port],
    );
    await ctx.thread.sleep(5);
    ok(space.kill(receiver.pid));
    await ctx.thread.park(receiver.exited);
    const buf = ok(ctx.malloc(64));
    const r = await cosend(k, port, buf, 8, { timeoutMs: 50 });
    t.true(E.isLeft(r), 'nothing can be written into a dead co-process’s memory');
    t.true(['EFAULT', 'ETIMEDOUT', 'EPIPE', 'EAGAIN'].includes(tagOf(r)), tagOf(r));
    t.deepEqual(kernel.check().ipcd, []);
    // ipcd still serves: a fresh pipe works end to end.
    t.is(tagOf(await openCoport(k, 'COCARRIER')), 'ok');
  });
});

test('a capability into a dead co-process’s memory faults; a daemon handed one answers EFAULT or EINVAL', async (t) => {
  await withKernel(async (ctx, k) => {
    let gift: Capability | undefined;
    const donor = ctx.coexecve({
      name: 'donor',
      main: (dctx) => {
        gift = ok(dctx.malloc(64));
        return 0;
      },
    });
    await ctx.thread.park(donor.exited);
    t.truthy(gift);
    t.false(ctx.machine.isLive(gift!));
    const port = ok(await openCoport(k, 'COCARRIER'));
    t.true(['EINVAL', 'EFAULT'].includes(tagOf(await cosend(k, port, gift!, 8))));
  });
});
