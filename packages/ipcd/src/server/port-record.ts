/**
 * A coport's shared state: one 64-byte record in ipcd's memory per port slot (spec §3.1's
 * `info`, plus the buffer capability). Everything another thread may need lives here, not
 * in ipcd's JS heap, so client-side code reaches it through CInvoke alone.
 *
 * SEQ is the futex word: a state change bumps it and wakes its waiters, who re-check — only
 * when WAITERS counts some (see `publish`).
 * The helpers below take the record as a WordWindow (capmachine): the record capability is
 * checked once (the port table re-checks its liveness per operation), so an operation's dozen
 * word accesses skip the full capability check each.
 */
import { ownedBy, stateOf, type Capability, type CapMachine, type CoThreadApi, type WordWindow } from '@comsg/capmachine';

export const RECORD_BYTES = 64;
export const Rec = {
  /**
   * Exchange state, a robust word (capmachine's robust-word): the state — OPEN, BUSY (a
   * thread holds the port for one copy), READY/DONE (COPIPE) — and the thread it belongs to.
   */
  STATUS: 0,
  /** 1 once closed. */
  CLOSED: 4,
  /** PollEvent bits (COCHANNEL, COCARRIER). */
  EVENTS: 8,
  /** Messages queued (COCARRIER); unused by COCHANNEL, whose length is END − START. */
  LENGTH: 12,
  /**
   * COCHANNEL: bytes ever read and written, modulo twice the capacity (a byte's place in the
   * ring is its count modulo the capacity). Each operation commits with one store — a reader
   * moves START, a writer END — so a thread that dies mid-operation leaves the ring as it was.
   */
  START: 16,
  END: 20,
  SEQ: 24,
  CAPACITY: 28,
  /** COPIPE: bytes the sender wrote, or −errno. */
  RESULT: 32,
  /** Generation of the port occupying this slot; a handle with another one is stale. */
  GEN: 36,
  /** COPIPE: senders currently waiting for a receiver. */
  SENDERS: 40,
  /** Threads counted as waiting on SEQ (see `publish`); a publish with none writes nothing. */
  WAITERS: 44,
  /** Capability: the COCHANNEL ring, or the COPIPE receiver's published buffer. */
  BUF: 48,
} as const;

export const Status = { OPEN: 1, BUSY: 2, READY: 4, DONE: 8 } as const;

/**
 * Publish a change: bump SEQ and wake its waiters, if any thread is counted in WAITERS.
 *
 * Why the count: a stream with nobody asleep would otherwise write SEQ (and look for sleepers)
 * on every operation, from both ends, so the record's cache line moved between the producer's
 * and the consumer's cores twice per message. It is a store-then-load handshake on both
 * sides: the publisher has made its change with an atomic write before it reads WAITERS
 * (atomically); a waiter adds itself to WAITERS (`watchSeq`) before it reads SEQ and checks
 * the state again. Of the two, at least one sees the other's write: either the waiter's
 * check finds the change, or the publisher finds the waiter and wakes it. The count only
 * gates the wake-up, so a count left too high (a waiter that died) costs wake-ups, never one.
 */
export function publish(w: WordWindow, thread: CoThreadApi): void {
  if (w.loadAtomic(Rec.WAITERS) === 0) return;
  w.add(Rec.SEQ, 1);
  thread.futexWake(w, Rec.SEQ);
}

/** Count the calling thread as a waiter on SEQ until `unwatchSeq` (see `publish`): then check again, then wait. */
export function watchSeq(m: CapMachine, rec: Capability): void {
  m.fetchAddI32(rec, Rec.WAITERS, 1);
}

export function unwatchSeq(m: CapMachine, rec: Capability): void {
  m.fetchAddI32(rec, Rec.WAITERS, -1);
}

const NULL_CAP_BYTES = new Uint8Array(16);

/** Empty the record's capability slot (a data write: the tag goes too). */
export function clearBuf(m: CapMachine, rec: Capability): void {
  m.store(rec, Rec.BUF, NULL_CAP_BYTES);
}

/** Set and clear event bits (no store when they are already so: a stream changes them rarely). */
export function updateEvents(w: WordWindow, add: number, remove: number): void {
  const was = w.load(Rec.EVENTS);
  const now = (was & ~remove) | add;
  if (now !== was) w.store(Rec.EVENTS, now);
}

/** What `acquire` returns when the port could not be taken. */
export const NOT_TAKEN = -2;

/**
 * Take the port: STATUS `from` → BUSY owned by this thread. The thread registers the word
 * first, so if it dies holding the port (a worker killed mid-copy) the runtime puts `from`
 * back and wakes SEQ's waiters. Contention only exists under the threads runtime and lasts
 * one copy, so a short bounded spin suffices. Returns the robust slot to `release` with, or
 * NOT_TAKEN.
 */
export function acquire(w: WordWindow, thread: CoThreadApi, from: number): number {
  const slot = thread.robustEnter(w, Rec.STATUS, from, Rec.SEQ);
  const busy = ownedBy(Status.BUSY, thread.tid);
  for (let i = 0; i < 1000; i++) {
    const seen = w.compareExchange(Rec.STATUS, from, busy);
    if (seen === from) return slot;
    if (stateOf(seen) !== Status.BUSY) break;
  }
  thread.robustLeave(slot);
  return NOT_TAKEN;
}

/** Hand the port on (BUSY → `to`) without giving up the registration: `to` still names this thread. */
export function handOn(w: WordWindow, thread: CoThreadApi, to: number): void {
  w.compareExchange(Rec.STATUS, ownedBy(Status.BUSY, thread.tid), to);
}

/** Give the port up: BUSY → `to`, and leave the registration `acquire` made. */
export function release(w: WordWindow, thread: CoThreadApi, slot: number, to: number): void {
  handOn(w, thread, to);
  thread.robustLeave(slot);
}
