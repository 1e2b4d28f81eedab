import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { Perm } from '@comsg/libcoproc';
import { coclose, cocreate, coinsert, coprocInit, copoll, coportInfo, coportMsgFree, corecv, corecvOob, corestrict, cosend, cosendOob, openCoport, CoportRight, PollEvent } from '@comsg/libcomsg';
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
    const errs = PollEvent.RERR | PollEvent.WERR;
    t.is(ok(await copoll(k, [{ port, events: errs }], 0)).revents[0], errs, 'refused receive and send raised RERR and WERR');
    t.is(ok(await corecv(k, port, dst, 4)), 4);
    t.is(ok(await corecv(k, port, dst, 64)), 6);
    t.is(new TextDecoder().decode(m.load(dst, 0, 6)), '456789');
    t.is(ok(await copoll(k, [{ port, events: errs }], 0)).revents[0], PollEvent.WERR, 'a successful receive cleared RERR');
    ok(await cosend(k, port, src, 1));
    t.is(ok(await copoll(k, [{ port, events: errs }], 0)).revents[0], 0, 'a successful send cleared WERR');
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

test('close wakes every waiter: blocked receivers get EPIPE, pollers see CLOSED', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const outcomes: string[] = [];
    for (const type of ['COCHANNEL', 'COPIPE', 'COCARRIER'] as const) {
      const port = ok(await openCoport(k, type));
      const buf = ok(ctx.malloc(64));
      let done = 0;
      ctx.spawnThread(`recv-${type}`, async (th) => {
        const kr = ok(k.session.on(th));
        outcomes.push(`${type} recv ${tagOf(await corecv(kr, port, buf, 64, { timeoutMs: -1 }))}`);
        done++;
      });
      ctx.spawnThread(`poll-${type}`, async (th) => {
        const kp = ok(k.session.on(th));
        const r = ok(await copoll(kp, [{ port, events: PollEvent.IN | PollEvent.CLOSED }], -1));
        outcomes.push(`${type} poll ${r.revents[0] === PollEvent.CLOSED ? 'CLOSED' : r.revents[0]}`);
        done++;
      });
      await ctx.thread.sleep(10);
      t.is(done, 0, `${type}: both wait until the close`);
      ok(await coclose(k, port));
      t.is(tagOf(await coclose(k, port)), 'EPIPE', 'closing twice');
      await ctx.thread.sleep(1);
      t.is(done, 2, outcomes.join(";"));
      void m;
    }
    t.deepEqual(outcomes.sort(), [
      'COCARRIER poll CLOSED',
      'COCARRIER recv EPIPE',
      'COCHANNEL poll CLOSED',
      'COCHANNEL recv EPIPE',
      'COPIPE poll CLOSED',
      'COPIPE recv EPIPE',
    ]);
  });
});

test('closed ports drain before EPIPE: nothing sent is lost', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const buf = ok(ctx.malloc(64));
    m.store(buf, 0, bytes('abcdef'));
    for (const type of ['COCHANNEL', 'COCARRIER'] as const) {
      const port = ok(await openCoport(k, type));
      ok(await cosend(k, port, buf, 3));
      ok(await cosend(k, port, buf, 3));
      ok(await coclose(k, port));
      t.is(tagOf(await cosend(k, port, buf, 1)), 'EPIPE', `${type}: no sends after close`);
      const dst = ok(ctx.malloc(64));
      const total = type === 'COCHANNEL' ? ok(await corecv(k, port, dst, 64)) : ok(await corecv(k, port, dst, 64)) + ok(await corecv(k, port, dst, 64));
      t.is(total, 6, `${type}: the queued data is still delivered`);
      t.is(tagOf(await corecv(k, port, dst, 64)), 'EPIPE');
    }
  });
});

test('rights: send-only cannot receive, receive-only cannot send, no CLOSE cannot close, rights never grow', async (t) => {
  await withKernel(async (ctx, k) => {
    const buf = ok(ctx.malloc(64));
    for (const type of ['COCHANNEL', 'COPIPE', 'COCARRIER'] as const) {
      const port = ok(await openCoport(k, type));
      const sendOnly = ok(await corestrict(k, port, CoportRight.SEND));
      const recvOnly = ok(await corestrict(k, port, CoportRight.RECV));
      t.is(tagOf(await corecv(k, sendOnly, buf, 8, { timeoutMs: 0 })), 'EACCES', `${type} send-only recv`);
      t.is(tagOf(await cosend(k, recvOnly, buf, 8, { timeoutMs: 0 })), 'EACCES', `${type} recv-only send`);
      t.is(tagOf(await coclose(k, sendOnly)), 'EACCES', `${type} close without CLOSE`);
      const widened = ok(await corestrict(k, sendOnly, CoportRight.SEND | CoportRight.RECV | CoportRight.CLOSE));
      t.is(ok(await coportInfo(k, widened)).rights, CoportRight.SEND, `${type}: restrict only narrows`);
      t.is(tagOf(await corestrict(k, port, 1 << 30)), 'EINVAL');
      ok(await coclose(k, port));
    }
  });
});

test('bad arguments are typed errors: wrong handles, lengths, buffers, sizes', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const buf = ok(ctx.malloc(64));
    const small = ok(ctx.malloc(16));
    // A namespace handle (sealed, another daemon's type) is not a coport.
    const results: string[] = [tagOf(await cosend(k, k.root, buf, 1)), tagOf(await corecv(k, k.root, buf, 1)), tagOf(await coclose(k, k.root)), tagOf(await copoll(k, [{ port: k.root, events: PollEvent.IN }], 0))];
    for (const r of results) {
      t.is(r, 'EINVAL');
    }
    t.is(tagOf(await cosend(k, buf, buf, 1)), 'EINVAL', 'an unsealed capability is not a handle');
    const chan = ok(await openCoport(k, 'COCHANNEL'));
    t.is(tagOf(await cosend(k, chan, buf, 0)), 'EINVAL');
    t.is(tagOf(await cosend(k, chan, buf, 65)), 'ENOBUFS');
    t.is(tagOf(await cosend(k, chan, m.andPerm(buf, Perm.STORE), 8)), 'EACCES');
    t.is(tagOf(await corecv(k, chan, m.andPerm(buf, Perm.LOAD), 8)), 'EACCES');
    t.is(tagOf(await cosendOob(k, chan, buf, 8, [])), 'EOPNOTSUPP');
    t.is(tagOf(await openCoport(k, 'COCHANNEL', { capacity: 1 << 30 })), 'EINVAL');
    // COPIPE: the sender's message must fit the receiver's buffer.
    const pipe = ok(await openCoport(k, 'COPIPE'));
    let recvd = '';
    ctx.spawnThread('pipe-recv', async (th) => {
      recvd = tagOf(await corecv(ok(k.session.on(th)), pipe, small, 16, { timeoutMs: 1000 }));
    });
    await ctx.thread.sleep(1);
    t.is(tagOf(await cosend(k, pipe, buf, 32, { timeoutMs: 0 })), 'EMSGSIZE');
    t.is(ok(await cosend(k, pipe, buf, 16, { timeoutMs: 0 })), 16, 'the receiver kept waiting; a smaller send fits');
    await ctx.thread.sleep(1);
    t.is(recvd, 'ok');
    // COCARRIER: size limit, queue limit (WERR), and a too-small receive keeps the message.
    const car = ok(await openCoport(k, 'COCARRIER'));
    const big = ok(ctx.malloc(1 << 17));
    t.is(tagOf(await cosend(k, car, big, (1 << 16) + 1)), 'EMSGSIZE');
    ok(await cosend(k, car, buf, 64));
    t.is(tagOf(await corecv(k, car, small, 16)), 'EMSGSIZE');
    t.is(ok(await corecv(k, car, buf, 64)), 64, 'the refused message was still there');
  }, { kernel: { ipcd: { limits: { queueDepth: 4 } } } });
});

test('COCARRIER queue limit: EAGAIN with WERR, OUT back once there is room', async (t) => {
  await withKernel(async (ctx, k) => {
    const buf = ok(ctx.malloc(64));
    const car = ok(await openCoport(k, 'COCARRIER'));
    for (let i = 0; i < 4; i++) ok(await cosend(k, car, buf, 8));
    t.is(tagOf(await cosend(k, car, buf, 8)), 'EAGAIN');
    const ev = ok(await copoll(k, [{ port: car, events: PollEvent.WERR | PollEvent.OUT | PollEvent.IN }], 0)).revents[0]!;
    t.is(ev, PollEvent.WERR | PollEvent.IN);
    ok(await corecv(k, car, buf, 64));
    const after = ok(await copoll(k, [{ port: car, events: PollEvent.OUT }], 0)).revents[0];
    t.is(after, PollEvent.OUT);
    // A blocked sender proceeds when a receiver makes room.
    for (let i = 0; i < 1; i++) ok(await cosend(k, car, buf, 8));
    let late = '';
    ctx.spawnThread('sender', async (th) => {
      late = tagOf(await cosend(ok(k.session.on(th)), car, buf, 8, { timeoutMs: 1000 }));
    });
    await ctx.thread.sleep(5);
    t.is(late, '');
    ok(await corecv(k, car, buf, 64));
    await ctx.thread.sleep(1);
    t.is(late, 'ok');
  }, { kernel: { ipcd: { limits: { queueDepth: 4 } } } });
});

test('port slots are recycled with generations: ENOSPC when full, stale handles stay dead', async (t) => {
  await withKernel(async (ctx, k) => {
    const buf = ok(ctx.malloc(16));
    const a = ok(await openCoport(k, 'COCHANNEL'));
    const b = ok(await openCoport(k, 'COCHANNEL'));
    t.is(tagOf(await openCoport(k, 'COCHANNEL')), 'ENOSPC');
    ok(await coclose(k, a));
    const c = ok(await openCoport(k, 'COCHANNEL'));
    t.is(tagOf(await cosend(k, a, buf, 4)), 'EPIPE', 'the old handle does not reach the new port in its slot');
    t.is(ok(await cosend(k, c, buf, 4)), 4);
    t.is(tagOf(await corecv(k, b, buf, 4)), 'EAGAIN', 'b is untouched');
  }, { kernel: { ipcd: { limits: { portsPerType: 2 } } } });
});

test('COCARRIER messages: only the receiver frees; close and receiver exit revoke outstanding copies', async (t) => {
  await withKernel(async (ctx, k) => {
    const m = ctx.machine;
    const buf = ok(ctx.malloc(64));
    const car = ok(await openCoport(k, 'COCARRIER'));
    for (let i = 0; i < 3; i++) ok(await cosend(k, car, buf, 8));
    // Another co-process receives one and exits without freeing it.
    let theirs: import('@comsg/libcoproc').Capability | undefined;
    const h = ctx.coexecve({
      name: 'receiver',
      main: async (rctx) => {
        const kr = ok(await coprocInit(rctx));
        theirs = ok(await corecvOob(kr, car)).msg;
      },
    });
    await h.exited;
    await ctx.thread.sleep(1);
    t.truthy(theirs);
    t.false(m.isLive(theirs!), 'the exited receiver\'s message was revoked');
    const mine = ok(await corecvOob(k, car));
    t.true(m.isLive(mine.msg));
    ok(await coclose(k, car));
    t.false(m.isLive(mine.msg), 'close revokes what was received before it');
    t.is(ok(await corecv(k, car, buf, 64)), 8, 'the last queued message still drains');
  });
});

test('waiting variants: a full channel blocks the sender until a receiver makes room; timeouts expire', async (t) => {
  await withKernel(async (ctx, k) => {
    const buf = ok(ctx.malloc(64));
    const chan = ok(await openCoport(k, 'COCHANNEL', { capacity: 8 }));
    ok(await cosend(k, chan, buf, 8));
    t.is(tagOf(await cosend(k, chan, buf, 4, { timeoutMs: 20 })), 'ETIMEDOUT');
    let sent = '';
    ctx.spawnThread('sender', async (th) => {
      sent = tagOf(await cosend(ok(k.session.on(th)), chan, buf, 4, { timeoutMs: -1 }));
    });
    await ctx.thread.sleep(10);
    t.is(sent, '', 'still blocked');
    t.is(ok(await corecv(k, chan, buf, 4)), 4);
    await ctx.thread.sleep(1);
    t.is(sent, 'ok');
    // An empty channel: a waiting receive times out, a poll with a timeout reports nothing ready.
    ok(await corecv(k, chan, buf, 64));
    const before = ctx.now();
    t.is(tagOf(await corecv(k, chan, buf, 4, { timeoutMs: 30 })), 'ETIMEDOUT');
    t.is(ctx.now() - before, 30);
    t.is(ok(await copoll(k, [{ port: chan, events: PollEvent.IN }], 15)).ready, 0);
  });
});

test('copoll across types; COPIPE reports OUT while a receiver waits (copipe_ready)', async (t) => {
  await withKernel(async (ctx, k) => {
    const buf = ok(ctx.malloc(64));
    const pipe = ok(await openCoport(k, 'COPIPE'));
    const chan = ok(await openCoport(k, 'COCHANNEL'));
    const car = ok(await openCoport(k, 'COCARRIER'));
    const entries = [
      { port: pipe, events: PollEvent.OUT },
      { port: chan, events: PollEvent.IN },
      { port: car, events: PollEvent.IN },
    ];
    t.deepEqual(ok(await copoll(k, entries, 0)).revents, [0, 0, 0]);
    ctx.spawnThread('pipe-receiver', async (th) => {
      await corecv(ok(k.session.on(th)), pipe, buf, 16, { timeoutMs: 1000 });
    });
    const r = ok(await copoll(k, entries, -1));
    t.deepEqual(r.revents, [PollEvent.OUT, 0, 0]);
    t.is(ok(await coportInfo(k, pipe)).events & PollEvent.OUT, PollEvent.OUT);
    ok(await cosend(k, pipe, buf, 4, { timeoutMs: 0 }));
    ctx.spawnThread('carrier-sender', async (th) => {
      await th.sleep(7);
      await cosend(ok(k.session.on(th)), car, buf, 4);
    });
    const woke = ok(await copoll(k, entries.slice(1), 1000));
    t.deepEqual(woke.revents, [0, PollEvent.IN]);
  });
});

test('attachments: coports and reservations travel with COCARRIER messages; other types refuse OOB', async (t) => {
  await withKernel(async (ctx, k) => {
    const buf = ok(ctx.malloc(64));
    const car = ok(await openCoport(k, 'COCARRIER'));
    const chan = ok(await openCoport(k, 'COCHANNEL'));
    const app = ok(await cocreate(k, 'oob', 'APPLICATION', k.root));
    const reservation = ok(await coinsert(k, 'later', 'RESERVATION', undefined, app.ns));
    ok(await cosendOob(k, car, buf, 8, [{ cap: chan, kind: 'COPORT' }, { cap: reservation, kind: 'RESERVATION' }]));
    const got = ok(await corecvOob(k, car));
    t.deepEqual(got.attachments.map((a) => a.kind), ['COPORT', 'RESERVATION']);
    // The attached port is the very port: data sent through it arrives on the original.
    ok(await cosend(k, got.attachments[0]!.cap, buf, 3));
    t.is(ok(await coportInfo(k, chan)).length, 3);
    t.is(tagOf(await cosendOob(k, car, buf, 8, [{ cap: buf, kind: 'COPORT' }])), 'EINVAL', 'a non-port is not a COPORT attachment');
    t.is(tagOf(await cosendOob(k, car, buf, 8, [{ cap: buf, kind: 'RESERVATION' }])), 'EINVAL', 'reservations are sealed handles');
    t.is(tagOf(await corecvOob(k, chan)), 'EOPNOTSUPP');
  });
});

test('ipcd memory exhaustion is ENOMEM, and freed memory is usable again', async (t) => {
  await withKernel(async (ctx, k) => {
    const buf = ok(ctx.malloc(4096));
    const car = ok(await openCoport(k, 'COCARRIER'));
    let sent = 0;
    while (E.isRight(await cosend(k, car, buf, 4096))) sent++;
    t.true(sent >= 1 && sent < 4);
    t.is(tagOf(await cosend(k, car, buf, 4096)), 'ENOMEM');
    t.is(ok(await copoll(k, [{ port: car, events: PollEvent.WERR }], 0)).revents[0], PollEvent.WERR);
    t.is(tagOf(await openCoport(k, 'COCHANNEL', { capacity: 4096 })), 'ENOMEM');
    ok(await corecv(k, car, buf, 4096)); // received, copied and freed
    t.is(ok(await cosend(k, car, buf, 4096)), 4096);
  }, { kernel: { ipcd: { limits: { arenaBytes: 3 * 4096 + 64 } } } });
});
