/**
 * The coport scenarios as a program module, so one suite runs on either runtime (on threads
 * the scenario is a worker and so are ipcd and the rest of the microkernel). A scenario cannot
 * call ava from a worker: it records each check (actual, expected, message) and prints them
 * as one JSON line; _coport-suite.ts asserts them. Waiting is bounded and condition-based
 * (`until`), never a fixed sleep that only virtual time makes exact.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Perm, type Capability, type CoProcessApi, type MicrokernelOptions } from '@comsg/libcoproc';
import {
  coclose,
  cocreate,
  coinsert,
  coprocInit,
  copoll,
  coportInfo,
  coportMsgFree,
  corecv,
  corecvOob,
  corecvSync,
  corestrict,
  cosend,
  cosendOob,
  cosendSync,
  openCoport,
  CoportRight,
  PollEvent,
  type UkernThread,
} from '@comsg/libcomsg';
import { ok, tagOf, until } from './_kernel.js';

/** One recorded check: the host asserts `actual` deep-equals `expected`. */
export interface Recorded {
  readonly actual: unknown;
  readonly expected: unknown;
  readonly message: string;
}

/** What a scenario prints when it ends: its checks, and an error if it threw. */
export interface ScenarioReport {
  readonly scenario: string;
  readonly checks: Recorded[];
  readonly error?: string;
}

/** The assertions a scenario may make (ava's names; values must survive JSON). */
export class Checks {
  readonly list: Recorded[] = [];
  is(actual: unknown, expected: unknown, message = ''): void {
    this.list.push({ actual, expected, message });
  }
  true(actual: boolean, message = ''): void {
    this.is(actual, true, message);
  }
  false(actual: boolean, message = ''): void {
    this.is(actual, false, message);
  }
  throws(fn: () => unknown, message = ''): void {
    let threw = false;
    try {
      fn();
    } catch {
      threw = true;
    }
    this.is(threw ? 'threw' : 'returned', 'threw', message);
  }
}

export interface Scenario {
  readonly title: string;
  /** Microkernel options the host boots with. */
  readonly kernel?: MicrokernelOptions;
  run(ctx: CoProcessApi, k: UkernThread, c: Checks): Promise<void>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** How long a scenario waits for a condition (generous: a loaded two-core machine runs a dozen workers). */
const WAIT_MS = 20_000;

/** Until a COPIPE receiver has published its buffer: copoll reports OUT (copipe_ready). */
async function receiverWaiting(k: UkernThread, pipe: Capability): Promise<void> {
  const r = ok(await copoll(k, [{ port: pipe, events: PollEvent.OUT }], 5000));
  if (r.revents[0] !== PollEvent.OUT) throw new Error('no COPIPE receiver waited');
}

/**
 * A corecv on a thread of its own, so the scenario's thread can go on to send. Returns what it
 * has got so far: '' while it waits, then the bytes received or the error's tag.
 */
function receiveOnThread(ctx: CoProcessApi, k: UkernThread, name: string, port: Capability, dst: Capability, len: number, timeoutMs: number): () => string | number {
  let got: string | number = '';
  ctx.spawnThread(name, async (th) => {
    const r = await corecv(ok(k.session.on(th)), port, dst, len, { timeoutMs });
    got = E.isRight(r) ? r.right : r.left._tag;
  });
  return () => got;
}

export const SCENARIOS = {
  cochannel: {
    title: 'COCHANNEL: bytes in, bytes out; short reads return what is there',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const port = ok(await openCoport(k, 'COCHANNEL', { capacity: 16 }));
      const src = ok(ctx.malloc(64));
      const dst = ok(ctx.malloc(64));
      m.store(src, 0, bytes('hello world'));
      c.is(ok(await cosend(k, port, src, 11)), 11);
      c.is(ok(await corecv(k, port, dst, 64)), 11, 'a long receive returns what is there');
      c.is(text(m.load(dst, 0, 11)), 'hello world');
      c.is(tagOf(await corecv(k, port, dst, 8)), 'EAGAIN');
      // Wrap-around: 11 consumed, ring of 16.
      m.store(src, 0, bytes('0123456789'));
      c.is(ok(await cosend(k, port, src, 10)), 10);
      c.is(tagOf(await cosend(k, port, src, 10)), 'EWOULDBLOCK');
      c.is(tagOf(await cosend(k, port, src, 17)), 'EMSGSIZE');
      const errs = PollEvent.RERR | PollEvent.WERR;
      c.is(ok(await copoll(k, [{ port, events: errs }], 0)).revents[0], errs, 'refused receive and send raised RERR and WERR');
      c.is(ok(await corecv(k, port, dst, 4)), 4);
      c.is(ok(await corecv(k, port, dst, 64)), 6);
      c.is(text(m.load(dst, 0, 6)), '456789');
      c.is(ok(await copoll(k, [{ port, events: errs }], 0)).revents[0], PollEvent.WERR, 'a successful receive cleared RERR');
      ok(await cosend(k, port, src, 1));
      c.is(ok(await copoll(k, [{ port, events: errs }], 0)).revents[0], 0, 'a successful send cleared WERR');
      ok(await coclose(k, port));
      c.is(tagOf(await cosend(k, port, src, 1)), 'EPIPE');
    },
  },

  copipe: {
    title: 'COPIPE: a receiver publishes its buffer, a sender fills it',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const port = ok(await openCoport(k, 'COPIPE'));
      const dst = ok(ctx.malloc(32));
      const got = receiveOnThread(ctx, k, 'receiver', port, dst, 32, 5000);
      const src = ok(ctx.malloc(32));
      m.store(src, 0, bytes('rendezvous'));
      c.is(ok(await cosend(k, port, src, 10, { timeoutMs: 5000 })), 10);
      await until(ctx, () => got() !== '', WAIT_MS, 1, 'the receiver returns');
      c.is(got(), 10);
      c.is(text(m.load(dst, 0, 10)), 'rendezvous');
      c.is(tagOf(await cosend(k, port, src, 10, { timeoutMs: 5 })), 'ETIMEDOUT');
      c.is(tagOf(await corecv(k, port, dst, 10, { timeoutMs: 5 })), 'ETIMEDOUT');
    },
  },

  pipeBuffers: {
    title: 'COPIPE: each receive fills its own buffer — another buffer, another length, or a receive after a withdrawn one — and no earlier one; each sender that comes first delivers its own bytes',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const port = ok(await openCoport(k, 'COPIPE'));
      const [a, b, src] = [ok(ctx.malloc(16)), ok(ctx.malloc(16)), ok(ctx.malloc(16))];
      const exchange = async (name: string, dst: Capability, len: number, message: string): Promise<string | number> => {
        const got = receiveOnThread(ctx, k, name, port, dst, len, 5000);
        await receiverWaiting(k, port);
        m.store(src, 0, bytes(message));
        const sent = await cosend(k, port, src, message.length, { timeoutMs: 5000 });
        await until(ctx, () => got() !== '', WAIT_MS, 1, `${name} returns`);
        return E.isRight(sent) ? got() : sent.left._tag;
      };
      c.is(await exchange('first', a, 16, 'first'), 5);
      c.is(await exchange('second', b, 16, 'second'), 6);
      c.is(text(m.load(a, 0, 5)), 'first', 'a receive into another buffer leaves the earlier one');
      c.is(tagOf(await corecv(k, port, a, 16, { timeoutMs: 5 })), 'ETIMEDOUT', 'a withdrawn receive');
      c.is(await exchange('third', a, 16, 'third'), 5);
      c.is(text(m.load(a, 0, 5)), 'third');
      c.is(text(m.load(b, 0, 6)), 'second', 'nor into the buffer before');
      // The same buffer with a shorter length: a longer message is refused, the receive goes on.
      const got = receiveOnThread(ctx, k, 'short', port, a, 4, 5000);
      await receiverWaiting(k, port);
      m.store(src, 0, bytes('toolong'));
      c.is(tagOf(await cosend(k, port, src, 7, { timeoutMs: 0 })), 'EMSGSIZE');
      m.store(src, 0, bytes('four'));
      c.is(ok(await cosend(k, port, src, 4, { timeoutMs: 5000 })), 4);
      await until(ctx, () => got() !== '', WAIT_MS, 1, 'the short receive returns');
      c.is(got(), 4);
      c.is(text(m.load(a, 0, 5)), 'fourd');
      // Senders first (inline they offer their message): each receive gets its own sender's bytes.
      const [s1, s2] = [ok(ctx.malloc(16)), ok(ctx.malloc(16))];
      m.store(s1, 0, bytes('alpha'));
      m.store(s2, 0, bytes('beta'));
      const senderFirst = async (name: string, from: Capability, len: number): Promise<string> => {
        let sent: string | number = '';
        ctx.spawnThread(name, async (th) => {
          const r = await cosend(ok(k.session.on(th)), port, from, len, { timeoutMs: 5000 });
          sent = E.isRight(r) ? r.right : r.left._tag;
        });
        const polled = ok(await copoll(k, [{ port, events: PollEvent.IN }], 5000));
        c.is(polled.revents[0], PollEvent.IN, `${name} waits`);
        const n = ok(await corecv(k, port, b, 16, { timeoutMs: 5000 }));
        await until(ctx, () => sent !== '', WAIT_MS, 1, `${name} returns`);
        c.is(sent, len);
        return text(m.load(b, 0, n));
      };
      c.is(await senderFirst('alpha', s1, 5), 'alpha');
      c.is(await senderFirst('beta', s2, 4), 'beta', 'another sender buffer');
      c.is(tagOf(await cosend(k, port, s1, 5, { timeoutMs: 5 })), 'ETIMEDOUT', 'a withdrawn send');
      c.is(await senderFirst('beta again', s2, 4), 'beta', 'after a withdrawn send');
      c.is(await senderFirst('alpha again', s1, 5), 'alpha');
    },
  },

  syncForms: {
    title: 'cosendSync/corecvSync: the non-waiting forms answer at once, without a promise, on every coport type',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const src = ok(ctx.malloc(32));
      const dst = ok(ctx.malloc(32));
      m.store(src, 0, bytes('synchronous'));
      const chan = ok(await openCoport(k, 'COCHANNEL', { capacity: 16 }));
      c.is(tagOf(corecvSync(k, chan, dst, 32)), 'EAGAIN', 'an empty channel refuses at once');
      c.is(ok(cosendSync(k, chan, src, 11)), 11);
      c.is(tagOf(cosendSync(k, chan, src, 11)), 'EWOULDBLOCK', 'all or nothing: 11 more bytes do not fit 16');
      c.is(ok(cosendSync(k, chan, src, 5)), 5, 'what fits goes in');
      c.is(ok(corecvSync(k, chan, dst, 32)), 16, 'a receive takes what is there');
      c.is(text(m.load(dst, 0, 16)), 'synchronoussynch');
      c.is(tagOf(corecvSync(k, chan, m.andPerm(dst, Perm.LOAD), 32)), 'EACCES', 'a receive needs a writable buffer');
      c.is(tagOf(cosendSync(k, chan, src, 0)), 'EINVAL');
      c.is(tagOf(cosendSync(k, m.clearTag(chan), src, 4)), 'EINVAL', 'an untagged handle is not a port');
      // The waiting forms see what the sync ones did, and the other way round.
      c.is(ok(cosendSync(k, chan, src, 4)), 4);
      c.is(ok(await corecv(k, chan, dst, 32)), 4);
      ok(await coclose(k, chan));
      c.is(tagOf(cosendSync(k, chan, src, 4)), 'EPIPE', 'a closed channel refuses sends');

      const pipe = ok(await openCoport(k, 'COPIPE'));
      c.is(tagOf(cosendSync(k, pipe, src, 4)), 'EAGAIN', 'no receiver waits on the pipe');
      c.is(tagOf(corecvSync(k, pipe, dst, 32)), 'EOPNOTSUPP', 'a COPIPE receive always waits');
      const got = receiveOnThread(ctx, k, 'receiver', pipe, dst, 32, WAIT_MS);
      await receiverWaiting(k, pipe);
      c.is(ok(cosendSync(k, pipe, src, 4)), 4, 'a waiting receiver takes a sync send');
      await until(ctx, () => got() !== '', WAIT_MS, 1, 'the receiver returns');
      c.is(got(), 4);

      const carrier = ok(await openCoport(k, 'COCARRIER'));
      c.is(tagOf(cosendSync(k, carrier, src, 4)), 'EOPNOTSUPP', 'a COCARRIER send is an ipcd call');
      c.is(tagOf(corecvSync(k, carrier, dst, 32)), 'EOPNOTSUPP');
    },
  },

  cocarrier: {
    title: 'COCARRIER: queued copies, read-only views, free revokes',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const port = ok(await openCoport(k, 'COCARRIER'));
      const src = ok(ctx.malloc(32));
      m.store(src, 0, bytes('carried'));
      c.is(ok(await cosend(k, port, src, 7)), 7);
      m.store(src, 0, bytes('XXXXXXX'));
      const msg = ok(await corecvOob(k, port));
      c.is(msg.len, 7);
      c.is(text(m.load(msg.msg, 0, 7)), 'carried', "the receiver reads ipcd's copy, not the sender's buffer");
      c.is(msg.msg.perms & ~Perm.LOAD, 0, 'the copy is read-only');
      c.is(Number(msg.msg.length), 7);
      ok(await coportMsgFree(k, port, msg.msg));
      c.false(m.isLive(msg.msg));
      c.throws(() => m.load(msg.msg, 0, 1), 'a freed copy cannot be read');
      c.is(tagOf(await coportMsgFree(k, port, msg.msg)), 'EINVAL', 'a revoked capability travels untagged');
      c.is(tagOf(await coportMsgFree(k, port, src)), 'ENOENT');
      c.is(ok(await coportInfo(k, port)).type, 'COCARRIER');
      c.is(tagOf(await corecvOob(k, port)), 'EAGAIN');
      const polled = ok(await copoll(k, [{ port, events: PollEvent.IN | PollEvent.RERR | PollEvent.OUT }], 0));
      c.is(polled.revents, [PollEvent.RERR | PollEvent.OUT]);
      const sendOnly = ok(await corestrict(k, port, CoportRight.SEND));
      c.is(tagOf(await corecvOob(k, sendOnly)), 'EACCES');
      c.is(tagOf(await cosendOob(k, port, src, 3, [{ cap: sendOnly, kind: 'COPORT' }])), 'ok');
      const withAtt = ok(await corecvOob(k, port));
      c.is(withAtt.attachments.map((a) => a.kind), ['COPORT']);
    },
  },

  closeWakes: {
    title: 'close wakes every waiter: blocked receivers get EPIPE, pollers see CLOSED',
    async run(ctx, k, c) {
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
        c.is(done, 0, `${type}: both wait until the close`);
        ok(await coclose(k, port));
        c.is(tagOf(await coclose(k, port)), 'EPIPE', 'closing twice');
        await until(ctx, () => done === 2, WAIT_MS, 1, `${type}: both waiters return`);
      }
      c.is(outcomes.sort(), [
        'COCARRIER poll CLOSED',
        'COCARRIER recv EPIPE',
        'COCHANNEL poll CLOSED',
        'COCHANNEL recv EPIPE',
        'COPIPE poll CLOSED',
        'COPIPE recv EPIPE',
      ]);
    },
  },

  drain: {
    title: 'closed ports drain before EPIPE: nothing sent is lost',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const buf = ok(ctx.malloc(64));
      m.store(buf, 0, bytes('abcdef'));
      for (const type of ['COCHANNEL', 'COCARRIER'] as const) {
        const port = ok(await openCoport(k, type));
        ok(await cosend(k, port, buf, 3));
        ok(await cosend(k, port, buf, 3));
        ok(await coclose(k, port));
        c.is(tagOf(await cosend(k, port, buf, 1)), 'EPIPE', `${type}: no sends after close`);
        const dst = ok(ctx.malloc(64));
        const total = type === 'COCHANNEL' ? ok(await corecv(k, port, dst, 64)) : ok(await corecv(k, port, dst, 64)) + ok(await corecv(k, port, dst, 64));
        c.is(total, 6, `${type}: the queued data is still delivered`);
        c.is(tagOf(await corecv(k, port, dst, 64)), 'EPIPE');
      }
    },
  },

  rights: {
    title: 'rights: send-only cannot receive, receive-only cannot send, no CLOSE cannot close, rights never grow',
    async run(ctx, k, c) {
      const buf = ok(ctx.malloc(64));
      for (const type of ['COCHANNEL', 'COPIPE', 'COCARRIER'] as const) {
        const port = ok(await openCoport(k, type));
        const sendOnly = ok(await corestrict(k, port, CoportRight.SEND));
        const recvOnly = ok(await corestrict(k, port, CoportRight.RECV));
        c.is(tagOf(await corecv(k, sendOnly, buf, 8, { timeoutMs: 0 })), 'EACCES', `${type} send-only recv`);
        c.is(tagOf(await cosend(k, recvOnly, buf, 8, { timeoutMs: 0 })), 'EACCES', `${type} recv-only send`);
        c.is(tagOf(await coclose(k, sendOnly)), 'EACCES', `${type} close without CLOSE`);
        const widened = ok(await corestrict(k, sendOnly, CoportRight.SEND | CoportRight.RECV | CoportRight.CLOSE));
        c.is(ok(await coportInfo(k, widened)).rights, CoportRight.SEND, `${type}: restrict only narrows`);
        c.is(tagOf(await corestrict(k, port, 1 << 30)), 'EINVAL');
        ok(await coclose(k, port));
      }
    },
  },

  badArguments: {
    title: 'bad arguments are typed errors: wrong handles, lengths, buffers, sizes',
    kernel: { ipcd: { limits: { queueDepth: 4 } } },
    async run(ctx, k, c) {
      const m = ctx.machine;
      const buf = ok(ctx.malloc(64));
      const small = ok(ctx.malloc(16));
      // A namespace handle (sealed, another daemon's type) is not a coport.
      c.is(tagOf(await cosend(k, k.root, buf, 1)), 'EINVAL', 'cosend on a namespace handle');
      c.is(tagOf(await corecv(k, k.root, buf, 1)), 'EINVAL', 'corecv on a namespace handle');
      c.is(tagOf(await coclose(k, k.root)), 'EINVAL', 'coclose on a namespace handle');
      c.is(tagOf(await copoll(k, [{ port: k.root, events: PollEvent.IN }], 0)), 'EINVAL', 'copoll on a namespace handle');
      c.is(tagOf(await cosend(k, buf, buf, 1)), 'EINVAL', 'an unsealed capability is not a handle');
      const chan = ok(await openCoport(k, 'COCHANNEL'));
      c.is(tagOf(await cosend(k, chan, buf, 0)), 'EINVAL');
      c.is(tagOf(await cosend(k, chan, buf, 65)), 'ENOBUFS');
      c.is(tagOf(await cosend(k, chan, m.andPerm(buf, Perm.STORE), 8)), 'EACCES');
      c.is(tagOf(await corecv(k, chan, m.andPerm(buf, Perm.LOAD), 8)), 'EACCES');
      c.is(tagOf(await cosendOob(k, chan, buf, 8, [])), 'EOPNOTSUPP');
      c.is(tagOf(await openCoport(k, 'COCHANNEL', { capacity: 1 << 30 })), 'EINVAL');
      // COPIPE: the sender's message must fit the receiver's buffer.
      const pipe = ok(await openCoport(k, 'COPIPE'));
      let recvd = '';
      ctx.spawnThread('pipe-recv', async (th) => {
        recvd = tagOf(await corecv(ok(k.session.on(th)), pipe, small, 16, { timeoutMs: 5000 }));
      });
      await receiverWaiting(k, pipe);
      c.is(tagOf(await cosend(k, pipe, buf, 32, { timeoutMs: 0 })), 'EMSGSIZE');
      c.is(ok(await cosend(k, pipe, buf, 16, { timeoutMs: 0 })), 16, 'the receiver kept waiting; a smaller send fits');
      await until(ctx, () => recvd !== '', WAIT_MS, 1, 'the pipe receiver returns');
      c.is(recvd, 'ok');
      // COCARRIER: size limit, queue limit (WERR), and a too-small receive keeps the message.
      const car = ok(await openCoport(k, 'COCARRIER'));
      const big = ok(ctx.malloc(1 << 17));
      c.is(tagOf(await cosend(k, car, big, (1 << 16) + 1)), 'EMSGSIZE');
      ok(await cosend(k, car, buf, 64));
      c.is(tagOf(await corecv(k, car, small, 16)), 'EMSGSIZE');
      c.is(ok(await corecv(k, car, buf, 64)), 64, 'the refused message was still there');
    },
  },

  carrierQueue: {
    title: 'COCARRIER queue limit: EAGAIN with WERR, OUT back once there is room',
    kernel: { ipcd: { limits: { queueDepth: 4 } } },
    async run(ctx, k, c) {
      const buf = ok(ctx.malloc(64));
      const car = ok(await openCoport(k, 'COCARRIER'));
      for (let i = 0; i < 4; i++) ok(await cosend(k, car, buf, 8));
      c.is(tagOf(await cosend(k, car, buf, 8)), 'EAGAIN');
      c.is(ok(await copoll(k, [{ port: car, events: PollEvent.WERR | PollEvent.OUT | PollEvent.IN }], 0)).revents[0], PollEvent.WERR | PollEvent.IN);
      ok(await corecv(k, car, buf, 64));
      c.is(ok(await copoll(k, [{ port: car, events: PollEvent.OUT }], 0)).revents[0], PollEvent.OUT);
      // A blocked sender proceeds when a receiver makes room.
      ok(await cosend(k, car, buf, 8));
      let late = '';
      ctx.spawnThread('sender', async (th) => {
        late = tagOf(await cosend(ok(k.session.on(th)), car, buf, 8, { timeoutMs: 5000 }));
      });
      await ctx.thread.sleep(5);
      c.is(late, '', 'the sender waits while the queue is full');
      ok(await corecv(k, car, buf, 64));
      await until(ctx, () => late !== '', WAIT_MS, 1, 'the blocked sender returns');
      c.is(late, 'ok');
    },
  },

  slots: {
    title: 'port slots are recycled with generations: ENOSPC when full, stale handles stay dead',
    kernel: { ipcd: { limits: { portsPerType: 2 } } },
    async run(ctx, k, c) {
      const buf = ok(ctx.malloc(16));
      const a = ok(await openCoport(k, 'COCHANNEL'));
      const b = ok(await openCoport(k, 'COCHANNEL'));
      c.is(tagOf(await openCoport(k, 'COCHANNEL')), 'ENOSPC');
      ok(await coclose(k, a));
      const d = ok(await openCoport(k, 'COCHANNEL'));
      c.is(tagOf(await cosend(k, a, buf, 4)), 'EPIPE', 'the old handle does not reach the new port in its slot');
      c.is(ok(await cosend(k, d, buf, 4)), 4);
      c.is(tagOf(await corecv(k, b, buf, 4)), 'EAGAIN', 'b is untouched');
    },
  },

  carrierRevoke: {
    title: 'COCARRIER messages: only the receiver frees; close and receiver exit revoke outstanding copies',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const buf = ok(ctx.malloc(64));
      const car = ok(await openCoport(k, 'COCARRIER'));
      for (let i = 0; i < 3; i++) ok(await cosend(k, car, buf, 8));
      // Another co-process receives one and exits without freeing it; it leaves the copy in `box`.
      const box = ok(ctx.malloc(32));
      const h = ctx.coexecvec({ module: import.meta.url, export: 'carrierReceiver', name: 'receiver' }, ['receiver'], [car, box]);
      c.is((await h.exited).code, 0, 'the receiver ran');
      c.is(m.loadI32(box, RECEIVED_LIVE), 1, 'the receiver held a live copy');
      const theirs = m.loadCap(box, 0);
      await until(ctx, () => !m.isLive(theirs), WAIT_MS, 1, "the exited receiver's message is revoked");
      c.throws(() => m.load(theirs, 0, 1), "the exited receiver's message was revoked");
      const mine = ok(await corecvOob(k, car));
      c.true(m.isLive(mine.msg));
      ok(await coclose(k, car));
      c.false(m.isLive(mine.msg), 'close revokes what was received before it');
      c.is(ok(await corecv(k, car, buf, 64)), 8, 'the last queued message still drains');
    },
  },

  waiting: {
    title: 'waiting variants: a full channel blocks the sender until a receiver makes room; timeouts expire',
    async run(ctx, k, c) {
      const buf = ok(ctx.malloc(64));
      const chan = ok(await openCoport(k, 'COCHANNEL', { capacity: 8 }));
      ok(await cosend(k, chan, buf, 8));
      c.is(tagOf(await cosend(k, chan, buf, 4, { timeoutMs: 20 })), 'ETIMEDOUT');
      let sent = '';
      ctx.spawnThread('sender', async (th) => {
        sent = tagOf(await cosend(ok(k.session.on(th)), chan, buf, 4, { timeoutMs: -1 }));
      });
      await ctx.thread.sleep(10);
      c.is(sent, '', 'still blocked');
      c.is(ok(await corecv(k, chan, buf, 4)), 4);
      await until(ctx, () => sent !== '', WAIT_MS, 1, 'the blocked sender returns');
      c.is(sent, 'ok');
      // An empty channel: a waiting receive times out, a poll with a timeout reports nothing ready.
      ok(await corecv(k, chan, buf, 64));
      const before = ctx.now();
      c.is(tagOf(await corecv(k, chan, buf, 4, { timeoutMs: 30 })), 'ETIMEDOUT');
      const waited = ctx.now() - before;
      // Virtual time is exact; real time may only run late.
      if (ctx.runtime === 'inline') c.is(waited, 30, 'the receive waited its timeout');
      else c.true(waited >= 29, `the receive waited its timeout (${waited} ms)`);
      c.is(ok(await copoll(k, [{ port: chan, events: PollEvent.IN }], 15)).ready, 0);
    },
  },

  copoll: {
    title: 'copoll across types; COPIPE reports OUT while a receiver waits (copipe_ready)',
    async run(ctx, k, c) {
      const buf = ok(ctx.malloc(64));
      const pipe = ok(await openCoport(k, 'COPIPE'));
      const chan = ok(await openCoport(k, 'COCHANNEL'));
      const car = ok(await openCoport(k, 'COCARRIER'));
      const entries = [
        { port: pipe, events: PollEvent.OUT },
        { port: chan, events: PollEvent.IN },
        { port: car, events: PollEvent.IN },
      ];
      c.is(ok(await copoll(k, entries, 0)).revents, [0, 0, 0]);
      ctx.spawnThread('pipe-receiver', async (th) => {
        await corecv(ok(k.session.on(th)), pipe, buf, 16, { timeoutMs: 5000 });
      });
      c.is(ok(await copoll(k, entries, 5000)).revents, [PollEvent.OUT, 0, 0]);
      c.is(ok(await coportInfo(k, pipe)).events & PollEvent.OUT, PollEvent.OUT);
      ok(await cosend(k, pipe, buf, 4, { timeoutMs: 0 }));
      ctx.spawnThread('carrier-sender', async (th) => {
        await th.sleep(7);
        await cosend(ok(k.session.on(th)), car, buf, 4);
      });
      c.is(ok(await copoll(k, entries.slice(1), 5000)).revents, [0, PollEvent.IN]);
    },
  },

  attachments: {
    title: 'attachments: coports and reservations travel with COCARRIER messages; other types refuse OOB',
    async run(ctx, k, c) {
      const buf = ok(ctx.malloc(64));
      const car = ok(await openCoport(k, 'COCARRIER'));
      const chan = ok(await openCoport(k, 'COCHANNEL'));
      const app = ok(await cocreate(k, 'oob', 'APPLICATION', k.root));
      const reservation = ok(await coinsert(k, 'later', 'RESERVATION', undefined, app.ns));
      ok(await cosendOob(k, car, buf, 8, [{ cap: chan, kind: 'COPORT' }, { cap: reservation, kind: 'RESERVATION' }]));
      const got = ok(await corecvOob(k, car));
      c.is(got.attachments.map((a) => a.kind), ['COPORT', 'RESERVATION']);
      // The attached port is the very port: data sent through it arrives on the original.
      ok(await cosend(k, got.attachments[0]!.cap, buf, 3));
      c.is(ok(await coportInfo(k, chan)).length, 3);
      c.is(tagOf(await cosendOob(k, car, buf, 8, [{ cap: buf, kind: 'COPORT' }])), 'EINVAL', 'a non-port is not a COPORT attachment');
      c.is(tagOf(await cosendOob(k, car, buf, 8, [{ cap: buf, kind: 'RESERVATION' }])), 'EINVAL', 'reservations are sealed handles');
      c.is(tagOf(await corecvOob(k, chan)), 'EOPNOTSUPP');
    },
  },

  enomem: {
    title: 'ipcd memory exhaustion is ENOMEM, and freed memory is usable again',
    kernel: { ipcd: { limits: { arenaBytes: 3 * 4096 + 64 } } },
    async run(ctx, k, c) {
      const buf = ok(ctx.malloc(4096));
      const car = ok(await openCoport(k, 'COCARRIER'));
      let sent = 0;
      while (E.isRight(await cosend(k, car, buf, 4096))) sent++;
      c.true(sent >= 1 && sent < 4, `${sent} messages fit`);
      c.is(tagOf(await cosend(k, car, buf, 4096)), 'ENOMEM');
      c.is(ok(await copoll(k, [{ port: car, events: PollEvent.WERR }], 0)).revents[0], PollEvent.WERR);
      c.is(tagOf(await openCoport(k, 'COCHANNEL', { capacity: 4096 })), 'ENOMEM');
      ok(await corecv(k, car, buf, 4096)); // received, copied and freed
      c.is(ok(await cosend(k, car, buf, 4096)), 4096);
    },
  },

  pipeSenderFirst: {
    title: 'COPIPE with the sender first: the receive gets the waiting message, a message too long for the receive fails the send (EMSGSIZE) while the receive goes on, and a send that timed out is never received',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const pipe = ok(await openCoport(k, 'COPIPE'));
      const src = ok(ctx.malloc(64));
      const dst = ok(ctx.malloc(64));
      m.store(src, 0, bytes('sent before any receive'));
      // A sender waits on its own thread (inline it offers its message); copoll reports IN.
      let sent: string | number = '';
      ctx.spawnThread('sender', async (th) => {
        const r = await cosend(ok(k.session.on(th)), pipe, src, 23, { timeoutMs: WAIT_MS });
        sent = E.isRight(r) ? r.right : r.left._tag;
      });
      c.is(ok(await copoll(k, [{ port: pipe, events: PollEvent.IN }], 5000)).revents[0], PollEvent.IN, 'a sender waits');
      c.is(ok(await corecv(k, pipe, dst, 64, { timeoutMs: 5000 })), 23, 'the receive takes the waiting message');
      c.is(text(m.load(dst, 0, 23)), 'sent before any receive');
      await until(ctx, () => sent !== '', WAIT_MS, 1, 'the sender returns');
      c.is(sent, 23);
      // Longer than the receive asks for: the send fails, the receive keeps waiting for another.
      let big: string | number = '';
      ctx.spawnThread('big-sender', async (th) => {
        const r = await cosend(ok(k.session.on(th)), pipe, src, 40, { timeoutMs: WAIT_MS });
        big = E.isRight(r) ? r.right : r.left._tag;
      });
      c.is(ok(await copoll(k, [{ port: pipe, events: PollEvent.IN }], 5000)).revents[0], PollEvent.IN);
      const got = receiveOnThread(ctx, k, 'small-receiver', pipe, dst, 16, WAIT_MS);
      await until(ctx, () => big !== '', WAIT_MS, 1, 'the long send fails');
      c.is(big, 'EMSGSIZE');
      m.store(src, 0, bytes('fits'));
      c.is(ok(await cosend(k, pipe, src, 4, { timeoutMs: WAIT_MS })), 4, 'a message that fits goes to the waiting receive');
      await until(ctx, () => got() !== '', WAIT_MS, 1, 'the receive returns');
      c.is(got(), 4);
      c.is(text(m.load(dst, 0, 4)), 'fits');
      // A send that timed out is gone: the next receive finds nothing.
      m.store(src, 0, bytes('late'));
      c.is(tagOf(await cosend(k, pipe, src, 4, { timeoutMs: 5 })), 'ETIMEDOUT');
      c.is(tagOf(await corecv(k, pipe, dst, 16, { timeoutMs: 5 })), 'ETIMEDOUT', 'the timed-out message is not received');
    },
  },

  pipeManySenders: {
    title: 'COPIPE with more senders waiting than it has sender slots: each message is received once, and copoll reports IN until the last sender is done',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const pipe = ok(await openCoport(k, 'COPIPE'));
      const senders = 6; // four sender slots, two counted past them
      const done: Array<string | number> = [];
      for (let i = 0; i < senders; i++) {
        const src = ok(ctx.malloc(16));
        m.store(src, 0, Uint8Array.of(i + 1));
        ctx.spawnThread(`sender-${i}`, async (th) => {
          const r = await cosend(ok(k.session.on(th)), pipe, src, 1, { timeoutMs: WAIT_MS });
          done.push(E.isRight(r) ? r.right : r.left._tag);
        });
      }
      c.is(ok(await copoll(k, [{ port: pipe, events: PollEvent.IN }], 5000)).revents[0], PollEvent.IN);
      const dst = ok(ctx.malloc(16));
      const got: number[] = [];
      for (let i = 0; i < senders; i++) {
        c.is(ok(await corecv(k, pipe, dst, 16, { timeoutMs: WAIT_MS })), 1);
        got.push(m.load(dst, 0, 1)[0]!);
      }
      c.is([...got].sort((a, b) => a - b).join(','), '1,2,3,4,5,6', 'every message once');
      await until(ctx, () => done.length === senders, WAIT_MS, 1, 'every sender returns');
      c.is(done.join(','), '1,1,1,1,1,1');
      c.is(ok(await copoll(k, [{ port: pipe, events: PollEvent.IN }], 0)).revents[0], 0, 'no sender waits any more');
    },
  },

  pipeSenderDies: {
    title: 'a COPIPE sender whose co-process ends while it waits takes its message with it: the next receive gets the next message',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const pipe = ok(await openCoport(k, 'COPIPE'));
      const h = ctx.coexecvec({ module: import.meta.url, export: 'dyingPipeSender', name: 'dying-sender' }, ['dying-sender'], [pipe]);
      c.is((await h.exited).code, 3, 'the sender ended while its thread waited');
      // Inline the dead thread's wait ends and it withdraws; a killed worker cannot, and its
      // sender slot (a robust word) is freed by the runtime instead.
      const noSender = async () => ok(await copoll(k, [{ port: pipe, events: PollEvent.IN }], 0)).revents[0] === 0;
      await until(ctx, noSender, WAIT_MS, 1, 'no sender waits any more (copoll: no IN)');
      const dst = ok(ctx.malloc(16));
      c.is(tagOf(await corecv(k, pipe, dst, 16, { timeoutMs: 5 })), 'ETIMEDOUT', "nothing is received from the dead sender");
      const got = receiveOnThread(ctx, k, 'next-receiver', pipe, dst, 16, WAIT_MS);
      const src = ok(ctx.malloc(16));
      m.store(src, 0, bytes('next'));
      c.is(ok(await cosend(k, pipe, src, 4, { timeoutMs: WAIT_MS })), 4);
      await until(ctx, () => got() !== '', WAIT_MS, 1, 'the next receiver returns');
      c.is(got(), 4);
      c.is(text(m.load(dst, 0, 4)), 'next');
    },
  },

  pipeReceiverDies: {
    title: 'a COPIPE receiver whose co-process ends while it waits gives the pipe back: no send lands in its buffer, the next receiver gets the next message',
    async run(ctx, k, c) {
      const m = ctx.machine;
      const pipe = ok(await openCoport(k, 'COPIPE'));
      const h = ctx.coexecvec({ module: import.meta.url, export: 'dyingPipeReceiver', name: 'dying-receiver' }, ['dying-receiver'], [pipe]);
      await receiverWaiting(k, pipe);
      c.is((await h.exited).code, 3, 'the receiver ended while its thread waited');
      const noReceiver = async () => ok(await copoll(k, [{ port: pipe, events: PollEvent.OUT }], 0)).revents[0] === 0;
      await until(ctx, noReceiver, WAIT_MS, 1, 'the pipe is free again (copoll: no receiver waiting)');
      const src = ok(ctx.malloc(16));
      m.store(src, 0, bytes('next'));
      c.is(tagOf(await cosend(k, pipe, src, 4, { timeoutMs: 0 })), 'EAGAIN', 'nobody is waiting: the send is refused, not lost in a dead buffer');
      const dst = ok(ctx.malloc(16));
      const got = receiveOnThread(ctx, k, 'next-receiver', pipe, dst, 16, 20_000);
      c.is(ok(await cosend(k, pipe, src, 4, { timeoutMs: 20_000 })), 4);
      await until(ctx, () => got() !== '', WAIT_MS, 1, 'the next receiver returns');
      c.is(got(), 4);
      c.is(text(m.load(dst, 0, 4)), 'next');
    },
  },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;

/** Where `carrierReceiver` leaves its flag in the box (the copy's capability is at 0). */
const RECEIVED_LIVE = 16;

/** capv: [COCARRIER port, box]. Receives one message, leaves its copy in the box, exits without freeing it. */
export async function carrierReceiver(ctx: CoProcessApi): Promise<number> {
  const [car, box] = [ctx.capv[0]!, ctx.capv[1]!];
  const k = ok(await coprocInit(ctx));
  const msg = ok(await corecvOob(k, car)).msg;
  ctx.machine.storeCap(box, 0, msg);
  ctx.machine.storeI32(box, RECEIVED_LIVE, ctx.machine.isLive(msg) ? 1 : 0);
  return 0;
}

/** capv: [COPIPE port]. A thread waits in corecv; the co-process then ends (exit 3) under it. */
export async function dyingPipeReceiver(ctx: CoProcessApi): Promise<number> {
  const pipe = ctx.capv[0]!;
  const k = ok(await coprocInit(ctx));
  const buf = ok(ctx.malloc(16));
  ctx.spawnThread('waiting-receiver', async (th) => {
    await corecv(ok(k.session.on(th)), pipe, buf, 16, { timeoutMs: 60_000 });
  });
  await receiverWaiting(k, pipe);
  ctx.exit(3);
}

/** capv: [COPIPE port]. A thread waits in cosend (inline: its message offered); the co-process then ends (exit 3) under it. */
export async function dyingPipeSender(ctx: CoProcessApi): Promise<number> {
  const pipe = ctx.capv[0]!;
  const k = ok(await coprocInit(ctx));
  const buf = ok(ctx.malloc(16));
  ctx.machine.store(buf, 0, bytes('lost'));
  ctx.spawnThread('waiting-sender', async (th) => {
    await cosend(ok(k.session.on(th)), pipe, buf, 4, { timeoutMs: 60_000 });
  });
  const r = ok(await copoll(k, [{ port: pipe, events: PollEvent.IN }], 5000));
  if (r.revents[0] !== PollEvent.IN) throw new Error('the sender never waited');
  ctx.exit(3);
}

/** The program: argv[1] names the scenario; prints one ScenarioReport line. */
export async function coportScenario(ctx: CoProcessApi): Promise<number> {
  const name = ctx.argv[1] ?? '';
  const c = new Checks();
  let error: string | undefined;
  try {
    const scenario: Scenario | undefined = (SCENARIOS as Record<string, Scenario>)[name];
    if (scenario === undefined) throw new Error(`no scenario "${name}"`);
    await scenario.run(ctx, ok(await coprocInit(ctx)), c);
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  const report: ScenarioReport = { scenario: name, checks: c.list, ...(error === undefined ? {} : { error }) };
  ctx.print(JSON.stringify(report));
  return error === undefined ? 0 : 1;
}
