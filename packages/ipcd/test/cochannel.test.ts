/**
 * The COCHANNEL ring on its own: a record and a ring in a bare machine, the send and receive
 * code called directly, against a model byte queue. The record's two locks and each end's
 * cached reading of the other's counter are what is under test.
 */
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import * as E from 'fp-ts/lib/Either.js';
import { CapMachine, PermSet, ownedBy, type Capability, type CoThreadApi } from '@comsg/capmachine';
import { channelEvents, channelHeld, channelProblems, channelRecv, channelSend } from '../src/server/cochannel.js';
import { RECORD_BYTES, Rec, Status } from '../src/server/port-record.js';
import type { PortTable, ResolvedPort } from '../src/server/port-table.js';
import { CoportRight, PollEvent } from '../src/protocol/types.js';

/** An inline-like thread: nothing runs in between its steps, nobody waits on the futex. */
const thread = { tid: 7, preemptible: false, futexWake: () => 0, robustEnterWord: () => -1, robustLeave: () => {} } as unknown as CoThreadApi;

function channel(capacity: number) {
  const { machine: m, roots } = CapMachine.boot({ memoryBytes: 1 << 16 });
  const at = (offset: number, bytes: number): Capability => m.restrict(roots.memory, BigInt(offset), BigInt(bytes), PermSet.DATA);
  const rec = at(0x1000, RECORD_BYTES);
  const ring = at(0x2000, capacity);
  const src = at(0x4000, 4096);
  const dst = at(0x6000, 4096);
  const words = m.words(rec);
  words.store(Rec.STATUS, Status.OPEN);
  words.store(Rec.SEND_LOCK, Status.OPEN);
  words.store(Rec.CAPACITY, capacity);
  const window = m.bytes(ring);
  const table = { ring: () => window } as unknown as PortTable;
  const port: ResolvedPort = { slot: 0, gen: 0, rec, words, rights: CoportRight.SEND | CoportRight.RECV, table };
  let next = 0;
  return {
    m,
    words,
    /** Send `n` fresh bytes (a running counter, so order and loss both show). */
    send(n: number) {
      const bytes = Uint8Array.from({ length: n }, () => next++ & 0xff);
      m.store(src, 0, bytes);
      const r = channelSend(m, thread, port, src, n);
      if (E.isLeft(r)) next -= n;
      return { r, bytes };
    },
    recv(n: number) {
      const r = channelRecv(m, thread, port, dst, n);
      return { r, bytes: E.isRight(r) ? m.load(dst, 0, r.right) : new Uint8Array() };
    },
  };
}

const tag = (r: E.Either<{ _tag: string }, number>): string => (E.isLeft(r) ? r.left._tag : 'ok');

testProp(
  'sends and receives match a byte queue: all-or-nothing sends, receives take what is there, nothing lost or reordered',
  [fc.integer({ min: 1, max: 64 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 130 })), { maxLength: 120 })],
  (t, capacity, ops) => {
    const c = channel(capacity);
    const model: number[] = [];
    t.deepEqual(channelProblems(c.words), []);
    for (const [isSend, n] of ops) {
      if (isSend) {
        const { r, bytes } = c.send(n);
        const want = n > capacity ? 'EMSGSIZE' : model.length + n > capacity ? 'EWOULDBLOCK' : 'ok';
        t.is(tag(r), want, `send ${n} with ${model.length}/${capacity} held`);
        if (want === 'ok') model.push(...bytes);
      } else {
        const { r, bytes } = c.recv(n);
        if (model.length === 0) {
          t.is(tag(r), 'EAGAIN');
        } else {
          t.deepEqual([...bytes], model.splice(0, Math.min(n, model.length)), `receive ${n}`);
        }
      }
      t.is(channelHeld(c.words), model.length);
      t.deepEqual(channelProblems(c.words), []);
    }
  },
);

test('a sender sees room a receiver made since its last look (its reading of START is refreshed when short)', (t) => {
  const c = channel(8);
  t.is(tag(c.send(8).r), 'ok');
  t.is(tag(c.send(1).r), 'EWOULDBLOCK');
  t.is(tag(c.recv(3).r), 'ok');
  t.is(tag(c.send(3).r), 'ok', 'the three bytes freed are seen');
  t.is(tag(c.send(1).r), 'EWOULDBLOCK');
  t.deepEqual([...c.recv(64).bytes], [3, 4, 5, 6, 7, 8, 9, 10]);
});

test('a receive drains everything sent so far, not only what its end saw last time', (t) => {
  const c = channel(16);
  c.send(4);
  t.is(c.recv(2).bytes.length, 2);
  c.send(4);
  t.deepEqual([...c.recv(64).bytes], [2, 3, 4, 5, 6, 7]);
});

test('events: IN and OUT follow the counters, WERR and RERR stick until the next success, CLOSED drops OUT', (t) => {
  const c = channel(4);
  t.is(channelEvents(c.words), PollEvent.OUT);
  c.recv(1);
  t.is(channelEvents(c.words), PollEvent.OUT | PollEvent.RERR);
  c.send(4);
  t.is(channelEvents(c.words), PollEvent.IN | PollEvent.RERR, 'full: IN without OUT; RERR stays until a receive succeeds');
  c.send(1);
  t.is(channelEvents(c.words), PollEvent.IN | PollEvent.RERR | PollEvent.WERR, 'a refused send raised WERR');
  c.recv(2);
  t.is(channelEvents(c.words), PollEvent.IN | PollEvent.OUT | PollEvent.WERR, 'a receive clears RERR, not WERR');
  c.send(1);
  t.is(channelEvents(c.words), PollEvent.IN | PollEvent.OUT, 'a send clears WERR');
  c.words.store(Rec.CLOSED, 1);
  t.is(channelEvents(c.words), PollEvent.IN | PollEvent.CLOSED);
});

test('closed and empty is EPIPE only once no send is under way: a send that checked before the close still lands', (t) => {
  const c = channel(16);
  c.send(2);
  c.words.store(Rec.CLOSED, 1);
  t.is(tag(c.send(1).r), 'EPIPE', 'no sends after the close');
  t.deepEqual([...c.recv(64).bytes], [0, 1], 'what was sent before drains');
  // Another thread holds the senders' lock: it checked CLOSED before the close and is copying.
  c.words.store(Rec.SEND_LOCK, ownedBy(Status.BUSY, 99));
  t.is(tag(c.recv(64).r), 'EAGAIN', 'not EPIPE while a send may still commit');
  c.words.store(Rec.END, 3);
  c.words.store(Rec.SEND_LOCK, Status.OPEN);
  t.is(c.recv(64).bytes.length, 1, 'the send under way is received');
  t.is(tag(c.recv(64).r), 'EPIPE');
});

test('a lock taken for good (a reclaimed port) answers EPIPE once the generation moved, not EAGAIN forever', (t) => {
  const c = channel(16);
  c.words.store(Rec.SEND_LOCK, ownedBy(Status.BUSY, 99));
  c.words.store(Rec.STATUS, ownedBy(Status.BUSY, 99));
  t.is(tag(c.send(1).r), 'EAGAIN', 'same generation: only busy');
  t.is(tag(c.recv(1).r), 'EAGAIN');
  c.words.store(Rec.GEN, 1);
  t.is(tag(c.send(1).r), 'EPIPE');
  t.is(tag(c.recv(1).r), 'EPIPE');
});

test('the answers a stream repeats are shared but frozen: no caller can change what the next one gets', (t) => {
  const c = channel(64);
  const first = c.send(8).r;
  t.throws(() => {
    (first as { right: number }).right = 99;
  }, { instanceOf: TypeError });
  t.deepEqual(c.send(8).r, E.right(8), 'the next send of 8 bytes still answers 8');
  t.deepEqual(c.recv(64).r, E.right(16));
  const empty = c.recv(64).r;
  t.is(tag(empty), 'EAGAIN');
  t.throws(() => {
    (empty as { left: unknown }).left = undefined;
  }, { instanceOf: TypeError });
  t.is(tag(c.recv(64).r), 'EAGAIN');
  c.send(60);
  t.is(tag(c.send(8).r), 'EWOULDBLOCK');
  // 1 and 256 share a slot of the table of answers: each still answers its own count.
  const big = channel(1024);
  for (const n of [1, 256, 1, 256]) t.deepEqual(big.send(n).r, E.right(n));
  t.deepEqual(big.recv(1).r, E.right(1));
  t.deepEqual(big.recv(256).r, E.right(256));
});
