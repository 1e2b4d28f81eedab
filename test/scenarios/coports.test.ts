import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { Perm } from '@comsg/libcoproc';
import { coclose, copoll, coportInfo, coportMsgFree, corecv, corecvOob, corestrict, cosend, cosendOob, openCoport, CoportRight, PollEvent } from '@comsg/libcomsg';
import { ok, tagOf, withKernel } from './_kernel.js';

const bytes = (s: string) => new TextEncoder().encode(s);

test('COCHANNEL: bytes in, bytes out; short reads return what is there', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const port = ok(await openCoport(k, 'COCHANNEL', { capacity: 16 }));
    const src = ok(ctx.malloc(64));
    const dst = ok(ctx.malloc(64));
    m.store(src, 0, bytes('hello world'));
    t.is(ok(await cosend(k, port, src, 11)), 11);
    t.is(ok(await corecv(k, port, dst, 64)), 11, 'a long receive returns what is there');
    t.is(new TextDecoder().decode(m.load(dst, 0, 11)), 'hello world');
    t.is(tagOf(await corecv(k, port, dst, 8)), 'EAGAIN');
    // Wrap-around: 11 consumed, ring of 16.
    m.store(src, 0, bytes('0123456789'));
    t.is(ok(await cosend(k, port, src, 10)), 10);
    t.is(tagOf(await cosend(k, port, src, 10)), 'EWOULDBLOCK');
    t.is(tagOf(await cosend(k, port, src, 17)), 'EMSGSIZE');
    t.is(ok(await corecv(k, port, dst, 4)), 4);
    t.is(ok(await corecv(k, port, dst, 64)), 6);
    t.is(new TextDecoder().decode(m.load(dst, 0, 6)), '456789');
    ok(await coclose(k, port));
    t.is(tagOf(await cosend(k, port, src, 1)), 'EPIPE');
  });
});

test('COPIPE: a receiver publishes its buffer, a sender fills it', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const port = ok(await openCoport(k, 'COPIPE'));
    const dst = ok(ctx.malloc(32));
    let got = 0;
    ctx.spawnThread('receiver', async (th) => {
      const kr = ok(k.session.on(th));
      got = ok(await corecv(kr, port, dst, 32, { timeoutMs: 1000 }));
    });
    const src = ok(ctx.malloc(32));
    m.store(src, 0, bytes('rendezvous'));
    t.is(ok(await cosend(k, port, src, 10, { timeoutMs: 1000 })), 10);
    await ctx.thread.sleep(1);
    t.is(got, 10);
    t.is(new TextDecoder().decode(m.load(dst, 0, 10)), 'rendezvous');
    t.is(tagOf(await cosend(k, port, src, 10, { timeoutMs: 5 })), 'ETIMEDOUT');
    t.is(tagOf(await corecv(k, port, dst, 10, { timeoutMs: 5 })), 'ETIMEDOUT');
  });
});

test('COCARRIER: queued copies, read-only views, free revokes', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const port = ok(await openCoport(k, 'COCARRIER'));
    const src = ok(ctx.malloc(32));
    m.store(src, 0, bytes('carried'));
    t.is(ok(await cosend(k, port, src, 7)), 7);
    m.store(src, 0, bytes('XXXXXXX'));
    const msg = ok(await corecvOob(k, port));
    t.is(msg.len, 7);
    t.is(new TextDecoder().decode(m.load(msg.msg, 0, 7)), 'carried', 'the receiver reads ipcd\'s copy, not the sender\'s buffer');
    t.is(msg.msg.perms & ~Perm.LOAD, 0);
    t.is(msg.msg.length, 7n);
    ok(await coportMsgFree(k, port, msg.msg));
    t.false(m.isLive(msg.msg));
    t.throws(() => m.load(msg.msg, 0, 1));
    t.is(tagOf(await coportMsgFree(k, port, msg.msg)), 'EINVAL', 'a revoked capability travels untagged');
    t.is(tagOf(await coportMsgFree(k, port, src)), 'ENOENT');
    const info = ok(await coportInfo(k, port));
    t.is(info.type, 'COCARRIER');
    t.is(tagOf(await corecvOob(k, port)), 'EAGAIN');
    const polled = ok(await copoll(k, [{ port, events: PollEvent.IN | PollEvent.RERR | PollEvent.OUT }], 0));
    t.deepEqual(polled.revents, [PollEvent.RERR | PollEvent.OUT]);
    const sendOnly = ok(await corestrict(k, port, CoportRight.SEND));
    t.is(tagOf(await corecvOob(k, sendOnly)), 'EACCES');
    t.is(tagOf(await cosendOob(k, port, src, 3, [{ cap: sendOnly, kind: 'COPORT' }])), 'ok');
    const withAtt = ok(await corecvOob(k, port));
    t.is(withAtt.attachments.length, 1);
    t.is(withAtt.attachments[0]!.kind, 'COPORT');
    void E;
  });
});
