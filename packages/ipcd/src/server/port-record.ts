/**
 * A coport's shared state: one 64-byte record in ipcd's memory per port slot (spec §3.1's
 * `info`, plus the buffer capability). Everything another thread may need lives here, not
 * in ipcd's JS heap, so client-side code reaches it through CInvoke alone.
 *
 * SEQ is the futex word: every state change bumps it and wakes its waiters, who re-check.
 */
import type { Capability, CapMachine, CoThreadApi } from '@comsg/capmachine';

export const RECORD_BYTES = 64;
export const Rec = {
  /** Exchange state: OPEN, BUSY (someone holds the port), READY/DONE (COPIPE). */
  STATUS: 0,
  /** 1 once closed. */
  CLOSED: 4,
  /** PollEvent bits (COCHANNEL, COCARRIER). */
  EVENTS: 8,
  /** Bytes in the ring (COCHANNEL), messages queued (COCARRIER). */
  LENGTH: 12,
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
  /** Capability: the COCHANNEL ring, or the COPIPE receiver's published buffer. */
  BUF: 48,
} as const;

export const Status = { OPEN: 1, BUSY: 2, READY: 4, DONE: 8 } as const;

/** Publish a change: bump SEQ (atomically: wakers on other threads rely on the order) and wake its waiters. */
export function publish(m: CapMachine, thread: CoThreadApi, rec: Capability): void {
  m.fetchAddI32(rec, Rec.SEQ, 1);
  thread.futexWake(rec, Rec.SEQ);
}

const NULL_CAP_BYTES = new Uint8Array(16);

/** Empty the record's capability slot (a data write: the tag goes too). */
export function clearBuf(m: CapMachine, rec: Capability): void {
  m.store(rec, Rec.BUF, NULL_CAP_BYTES);
}

/** Set and clear event bits. */
export function updateEvents(m: CapMachine, rec: Capability, add: number, remove: number): void {
  m.storeI32(rec, Rec.EVENTS, (m.loadI32(rec, Rec.EVENTS) & ~remove) | add);
}

/**
 * Take the port (status `from` → BUSY). Contention only exists under the threads runtime and
 * lasts one copy, so a short bounded spin suffices; a port still busy after it reports false.
 */
export function acquire(m: CapMachine, rec: Capability, from: number): boolean {
  for (let i = 0; i < 1000; i++) {
    const seen = m.compareExchangeI32(rec, Rec.STATUS, from, Status.BUSY);
    if (seen === from) return true;
    if (seen !== Status.BUSY) return false;
  }
  return false;
}

export function release(m: CapMachine, rec: Capability, to: number): void {
  m.compareExchangeI32(rec, Rec.STATUS, Status.BUSY, to);
}
