/**
 * A coport's shared state: one record in ipcd's memory per port slot (spec §3.1's `info`,
 * plus the buffer capability). Everything another thread may need lives here, not in ipcd's
 * JS heap, so client-side code reaches it through CInvoke alone.
 *
 * Four 64-byte lines, so that on the threads runtime a COCHANNEL's producer and consumer do
 * not write the same cache line: the first holds what both read and rarely change (generation,
 * closed flag, capacity, ring, futex word), the second the receive side's words, the third the
 * send side's, and the last END alone — the one word of the sender's that a polling receiver
 * reads all the time, kept apart so that its reads do not take the senders' lock line away
 * from the sender (node-ipc-anchors §5). The port table starts records on a 64-byte boundary.
 *
 * SEQ is the futex word: a state change bumps it and wakes its waiters, who re-check — only
 * when WAITERS counts some (see `publish`).
 * The helpers below take the record as a WordWindow (capmachine): the record capability is
 * checked once (the port table re-checks its liveness per operation), so an operation's dozen
 * word accesses skip the full capability check each.
 */
import { WordWindow, ownedBy, stateOf, type Capability, type CapMachine, type CoThreadApi } from '@comsg/capmachine';

export const RECORD_BYTES = 256;
export const RECORD_ALIGN = 64;
export const Rec = {
  // ── shared line: read by everyone, written rarely ──
  /** Generation of the port occupying this slot; a handle with another one is stale. */
  GEN: 0,
  /** 1 once closed. */
  CLOSED: 4,
  /** COCHANNEL: ring bytes; COCARRIER: queue depth. */
  CAPACITY: 8,
  /** COCARRIER: its PollEvent bits. (A COCHANNEL's follow from its counters and the two words below.) */
  EVENTS: 12,
  SEQ: 16,
  /** Threads counted as waiting on SEQ (see `publish`); a publish with none writes nothing. */
  WAITERS: 20,
  /** COCARRIER: messages queued. */
  LENGTH: 24,
  /** COPIPE: senders waiting for a receiver beyond the SENDER_SLOTS (a plain count: see there). */
  SENDERS: 28,
  /** Capability: the COCHANNEL ring. */
  BUF: 48,

  // ── receive line ──
  /**
   * A robust word (capmachine's robust-word) holding a state — OPEN, BUSY (a thread holds it
   * for one copy), READY/DONE (COPIPE) — and the thread it belongs to. COCHANNEL: the
   * receivers' lock. COPIPE: the exchange state.
   */
  STATUS: 64,
  /**
   * COCHANNEL: bytes ever read, modulo twice the capacity (a byte's place in the ring is its
   * count modulo the capacity). Moved by a receiver, with one store that commits its read.
   */
  START: 68,
  /** COCHANNEL: END as receivers last read it (never ahead of END), so they re-read END only when it shows fewer bytes than asked for. */
  RECV_END: 72,
  /** COCHANNEL: RERR while the last receive was refused (kept on this line: receivers raise and drop it). */
  RECV_EVENTS: 76,
  /**
   * COPIPE: bytes the sender wrote into the receiver's buffer, or −errno. Here with STATUS, not
   * on the shared line: the shared line holds SEQ, which a waiting peer polls, and every write
   * to that line took it away from the poller's core and back (a 64 KiB message on threads wrote
   * it half a dozen times).
   */
  RESULT: 80,
  /**
   * COPIPE: bumped by every write of PIPE_BUF. A receive that would store the very view its
   * thread's table last stored there, with this word unchanged since, leaves it (see copipe).
   */
  VIEW_SEQ: 88,
  /**
   * Capability: COPIPE, a receiver's write-only view of its buffer (on this line, like RESULT).
   * Senders use it only while STATUS is READY, which only the receiver that stored it sets.
   */
  PIPE_BUF: 96,

  // ── send line ──
  /** COCHANNEL: the senders' lock (a robust word, OPEN or BUSY). */
  SEND_LOCK: 128,
  /** COCHANNEL: START as senders last read it (never ahead of START), so they re-read START only when it looks full. */
  SEND_START: 132,
  /** COCHANNEL: WERR while the last send was refused. */
  SEND_EVENTS: 136,
  /**
   * COPIPE: the senders' word, a robust word like STATUS: OPEN, BUSY, OFFERED (a waiting
   * sender published its message at OFFER_BUF) and TAKEN (a receiver copied it), naming the
   * sender from its claim until it collects.
   */
  OFFER: 140,
  /** COPIPE: the offered message's length (OFFER_BUF's bounds may be rounded up). */
  OFFER_LEN: 144,
  /** COPIPE: bytes the receiver took from the offer, or −errno. */
  OFFER_RESULT: 148,
  /** COPIPE: bumped by every write of OFFER_BUF (as VIEW_SEQ is for PIPE_BUF). */
  OFFER_SEQ: 152,
  /**
   * Capability: COPIPE, a sender's read-only view of its offered message. Receivers use it
   * only while OFFER is OFFERED, which only the sender that stored it sets.
   */
  OFFER_BUF: 160,
  /**
   * COPIPE: SENDER_SLOT_COUNT robust words, each free (0) or naming a sender that waits for a
   * receiver (copoll's IN). A count could not survive its sender: a worker killed while it
   * waits never decrements it, and the pipe would report IN for good. A slot names its
   * thread, so the runtime frees it when the thread dies. Senders past the slots use SENDERS.
   */
  SENDER_SLOTS: 176,

  // ── published line: what the other end polls ──
  /** COCHANNEL: bytes ever written, modulo twice the capacity; one store commits a send. */
  END: 192,
  /**
   * COPIPE on threads: doorbells, each bumped once per exchange — DONE_BELL by the sender that
   * filled a receiver's buffer, READY_BELL by a receiver that published one. A waiting side
   * polls its bell, not STATUS: the receive line takes a dozen writes per message (claims,
   * results, the view), and each one that found the poller's copy there had to take the line
   * from it first.
   */
  DONE_BELL: 196,
  READY_BELL: 200,
} as const;

/** States of a robust word (distinct 4-bit values, not flags). OFFERED and TAKEN are COPIPE's OFFER word's, WAITING its sender slots'. */
export const Status = { OPEN: 1, BUSY: 2, OFFERED: 3, READY: 4, TAKEN: 5, WAITING: 6, DONE: 8 } as const;

/** COPIPE sender slots (Rec.SENDER_SLOTS): four words, to the end of the send line. */
export const SENDER_SLOT_COUNT = 4;

/** COPIPE: senders waiting for a receiver now (slots taken, plus the overflow count). */
export function waitingSenders(w: WordWindow): number {
  let n = w.loadAtomic(Rec.SENDERS);
  for (let i = 0; i < SENDER_SLOT_COUNT; i++) if (w.loadAtomic(Rec.SENDER_SLOTS + 4 * i) !== 0) n++;
  return n;
}

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
  // The bump tells a waiter that took its SEQ snapshot but is not asleep yet. Where no other
  // thread runs meanwhile (inline), none can be: a waiter snapshots, checks and sleeps in one
  // synchronous stretch, so the wake-up alone does — and a stream whose consumer was already
  // woken pays no write per message.
  if (thread.preemptible) w.add(Rec.SEQ, 1);
  thread.futexWake(w, Rec.SEQ);
}

/** Count the calling thread as a waiter on SEQ until `unwatchSeq` (see `publish`): then check again, then wait. */
export function watchSeq(m: CapMachine, rec: Capability | WordWindow): void {
  if (rec instanceof WordWindow) rec.add(Rec.WAITERS, 1);
  else m.fetchAddI32(rec, Rec.WAITERS, 1);
}

/** Stop counting (see watchSeq); through an open window, or the record checked now. */
export function unwatchSeq(m: CapMachine, rec: Capability | WordWindow): void {
  if (rec instanceof WordWindow) rec.add(Rec.WAITERS, -1);
  else m.fetchAddI32(rec, Rec.WAITERS, -1);
}

const NULL_CAP_BYTES = new Uint8Array(16);

/** Empty one of the record's capability slots, BUF unless told (a data write: the tag goes too). */
export function clearBuf(m: CapMachine, rec: Capability, at: number = Rec.BUF): void {
  m.store(rec, at, NULL_CAP_BYTES);
}

/** clearBuf through an open window: four word writes, no capability check (a withdrawn COPIPE receive or offer empties its slot). */
export function clearSlot(w: WordWindow, at: number): void {
  w.store(at, 0);
  w.store(at + 4, 0);
  w.store(at + 8, 0);
  w.store(at + 12, 0);
}

/**
 * Set and clear event bits, read-modify-write (no store when they are already so: a stream
 * changes them rarely). For COCARRIER's EVENTS, which only ipcd writes.
 */
export function updateEvents(w: WordWindow, add: number, remove: number): void {
  const was = w.load(Rec.EVENTS);
  const now = (was & ~remove) | add;
  if (now !== was) w.store(Rec.EVENTS, now);
}

/** Set sticky event bits in the word at `offset` atomically; true when any was clear. */
export function raiseEvent(w: WordWindow, offset: number, bits: number): boolean {
  if ((w.load(offset) & bits) === bits) return false;
  return (w.or(offset, bits) & bits) !== bits;
}

/** Clear sticky event bits atomically; a plain read first, so the common case writes nothing. */
export function dropEvent(w: WordWindow, offset: number, bits: number): void {
  if ((w.load(offset) & bits) !== 0) w.and(offset, ~bits);
}

/** What `acquire` returns when the port could not be taken. */
export const NOT_TAKEN = -2;

/**
 * Take a lock word (STATUS unless told): `from` → BUSY owned by this thread. The thread
 * registers the word first, so if it dies holding it (a worker killed mid-copy) the runtime
 * puts `from` back and wakes SEQ's waiters. Contention only exists under the threads runtime
 * and lasts one copy, so a short bounded spin suffices. Returns the robust slot to `release`
 * with, or NOT_TAKEN.
 */
export function acquire(w: WordWindow, thread: CoThreadApi, from: number, word: number = Rec.STATUS): number {
  const slot = thread.robustEnterWord(w.robust(word, Rec.SEQ), from);
  const busy = ownedBy(Status.BUSY, thread.tid);
  for (let i = 0; i < 1000; i++) {
    const seen = w.compareExchange(word, from, busy);
    if (seen === from) return slot;
    if (stateOf(seen) !== Status.BUSY) break;
  }
  thread.robustLeave(slot);
  return NOT_TAKEN;
}

/** What `acquireBrief` returns where no other thread can run meanwhile: nothing was written, nothing to give back. */
const UNCONTENDED = -3;

/**
 * `acquire` for a lock held only within one synchronous stretch of code, given back with
 * `releaseBrief` in a `finally`. Where the thread cannot be stopped in between and no other
 * thread runs meanwhile (the inline runtime), nobody but this stretch of code could ever see
 * the lock held, so it is only checked free (a lock taken for good — a reclaimed port — is
 * still refused): two CASes a message saved on a stream's hot path.
 */
export function acquireBrief(w: WordWindow, thread: CoThreadApi, word: number): number {
  if (thread.preemptible) return acquire(w, thread, Status.OPEN, word);
  return w.load(word) === Status.OPEN ? UNCONTENDED : NOT_TAKEN;
}

/** Give back what `acquireBrief` took. */
export function releaseBrief(w: WordWindow, thread: CoThreadApi, slot: number, word: number): void {
  if (slot !== UNCONTENDED) release(w, thread, slot, Status.OPEN, word);
}

/** Hand the port on (BUSY → `to`) without giving up the registration: `to` still names this thread. */
export function handOn(w: WordWindow, thread: CoThreadApi, to: number, word: number = Rec.STATUS): void {
  w.compareExchange(word, ownedBy(Status.BUSY, thread.tid), to);
}

/** Give the lock up: BUSY → `to`, and leave the registration `acquire` made. */
export function release(w: WordWindow, thread: CoThreadApi, slot: number, to: number, word: number = Rec.STATUS): void {
  handOn(w, thread, to, word);
  thread.robustLeave(slot);
}
