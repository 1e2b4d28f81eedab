/**
 * The record helpers' two runtime-dependent shortcuts: where no other thread runs between a
 * thread's steps (inline), a brief lock is only checked free and a publish wakes without
 * bumping SEQ; where one can (threads), both write as the protocol needs.
 */
import test from 'ava';
import { CapMachine, PermSet, ownedBy, type CoThreadApi } from '@comsg/capmachine';
import { NOT_TAKEN, RECORD_BYTES, Rec, Status, acquireBrief, publish, releaseBrief } from '../src/server/port-record.js';

function record() {
  const { machine: m, roots } = CapMachine.boot({ memoryBytes: 1 << 16 });
  const rec = m.restrict(roots.memory, 0x1000n, BigInt(RECORD_BYTES), PermSet.DATA);
  const w = m.words(rec);
  w.store(Rec.SEND_LOCK, Status.OPEN);
  return { w };
}

/** A thread that records its futex wakes; robust registrations always succeed (slot 0). */
function threadOf(preemptible: boolean) {
  const wakes: number[] = [];
  const thread = {
    tid: 7,
    preemptible,
    futexWake: (_at: unknown, offset: number) => (wakes.push(offset), 1),
    robustEnterWord: () => 0,
    robustLeave: () => {},
  } as unknown as CoThreadApi;
  return { thread, wakes };
}

test('publish: nobody counted on SEQ, nothing written and nobody woken', (t) => {
  for (const preemptible of [false, true]) {
    const { w } = record();
    const { thread, wakes } = threadOf(preemptible);
    publish(w, thread);
    t.is(w.load(Rec.SEQ), 0);
    t.deepEqual(wakes, []);
  }
});

test('publish with a waiter counted: threads bump SEQ before the wake (a waiter may be between snapshot and sleep); inline only wakes', (t) => {
  const threads = threadOf(true);
  const a = record();
  a.w.store(Rec.WAITERS, 1);
  publish(a.w, threads.thread);
  t.is(a.w.load(Rec.SEQ), 1);
  t.deepEqual(threads.wakes, [Rec.SEQ]);

  const inline = threadOf(false);
  const b = record();
  b.w.store(Rec.WAITERS, 1);
  publish(b.w, inline.thread);
  t.is(b.w.load(Rec.SEQ), 0, 'no write: an inline waiter snapshots, checks and sleeps in one synchronous stretch');
  t.deepEqual(inline.wakes, [Rec.SEQ]);
});

test('acquireBrief: threads take the lock (BUSY, this thread) and give it back; inline leaves the word untouched', (t) => {
  const threads = threadOf(true);
  const a = record();
  const slot = acquireBrief(a.w, threads.thread, Rec.SEND_LOCK);
  t.not(slot, NOT_TAKEN);
  t.is(a.w.load(Rec.SEND_LOCK), ownedBy(Status.BUSY, 7));
  releaseBrief(a.w, threads.thread, slot, Rec.SEND_LOCK);
  t.is(a.w.load(Rec.SEND_LOCK), Status.OPEN);

  const inline = threadOf(false);
  const b = record();
  const brief = acquireBrief(b.w, inline.thread, Rec.SEND_LOCK);
  t.not(brief, NOT_TAKEN);
  t.is(b.w.load(Rec.SEND_LOCK), Status.OPEN, 'nobody else runs until the release: nothing to write');
  releaseBrief(b.w, inline.thread, brief, Rec.SEND_LOCK);
  t.is(b.w.load(Rec.SEND_LOCK), Status.OPEN);
});

test('acquireBrief refuses a lock another thread holds (a reclaimed port keeps it for good), on both runtimes', (t) => {
  for (const preemptible of [false, true]) {
    const { w } = record();
    w.store(Rec.SEND_LOCK, ownedBy(Status.BUSY, 99));
    t.is(acquireBrief(w, threadOf(preemptible).thread, Rec.SEND_LOCK), NOT_TAKEN);
    t.is(w.load(Rec.SEND_LOCK), ownedBy(Status.BUSY, 99));
  }
});
