/**
 * COCHANNEL: a byte ring in ipcd memory that clients' own threads copy into and out of,
 * inside CInvoke (spec §3.5). Sends are all-or-nothing (EWOULDBLOCK when they do not fit);
 * a receive takes what is there up to the requested length — never stale bytes (fixes §8.15).
 * After close, senders get EPIPE and receivers drain what is left, then get EPIPE.
 *
 * Senders and receivers have a lock each (SEND_LOCK, STATUS), so the two ends never wait
 * for one another: only a sender moves END and only a receiver moves START, each committing
 * with one store, and each side keeps its last reading of the other's counter on its own
 * line (SEND_START, RECV_END), re-reading the real one only when the ring looks full (to a
 * sender) or shorter than asked for (to a receiver). A stream's producer and consumer then share one cache line per message (END's),
 * as a plain SPSC ring does.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Perm, sysError, type Capability, type CapMachine, type CoThreadApi, type SysError, type WordWindow } from '@comsg/capmachine';
import { CoportRight, PollEvent } from '../protocol/types.js';
import { checkBuffer, faulted, isLength } from './checks.js';
import { NOT_TAKEN, Rec, Status, acquireBrief, dropEvent, publish, raiseEvent, releaseBrief } from './port-record.js';
import type { ResolvedPort } from './port-table.js';

export function channelSend(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  if ((port.rights & CoportRight.SEND) === 0) return E.left(sysError('EACCES', 'cosend', 'handle lacks SEND'));
  // The copy checks the buffer as it reads it (and a send commits nothing until it is all
  // copied), so the other argument checks run only after a send is refused or faults, to pick
  // the error a bad buffer gets — the same one either way. The length comes first: the ring
  // arithmetic needs a sane one.
  if (!isLength(len)) return E.left(checkBuffer(m, 'cosend', buf, len, Perm.LOAD)!);
  const w = port.words;
  const sent = trySend(thread, port, buf, len);
  const bad = E.isLeft(sent) ? checkBuffer(m, 'cosend', buf, len, Perm.LOAD) : undefined;
  const r = bad === undefined ? sent : E.left(bad);
  if (E.isLeft(r) && r.left._tag === 'EWOULDBLOCK') {
    refused(w, thread, Rec.SEND_EVENTS, PollEvent.WERR);
  } else {
    if (E.isRight(r)) dropEvent(w, Rec.SEND_EVENTS, PollEvent.WERR);
    // Failures publish too: a receiver draining a closed port waits out a send under way.
    publish(w, thread);
  }
  return r;
}

/** The send under the senders' lock; events and wake-ups are the caller's. */
function trySend(thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  const w = port.words;
  const cap = w.load(Rec.CAPACITY);
  if (len > cap) return E.left(sysError('EMSGSIZE', 'cosend', `${len} bytes never fit a ${cap}-byte channel`));
  const slot = acquireBrief(w, thread, Rec.SEND_LOCK);
  // A reclaimed port keeps its locks taken for good: that is EPIPE, not a busy channel.
  if (slot === NOT_TAKEN) return w.load(Rec.GEN) !== port.gen || w.load(Rec.CLOSED) !== 0 ? E.left(sysError('EPIPE', 'cosend', 'coport is closed')) : E.left(sysError('EAGAIN', 'cosend', 'channel busy'));
  let r: E.Either<SysError, number>;
  try {
    // Under the lock: a close or a reclaim seen before this point stops the send.
    r = w.load(Rec.GEN) !== port.gen || w.loadAtomic(Rec.CLOSED) !== 0 ? E.left(sysError('EPIPE', 'cosend', 'coport is closed')) : ringWrite(w, port, buf, len, cap);
  } catch (e) {
    r = faulted('cosend', e);
  } finally {
    releaseBrief(w, thread, slot, Rec.SEND_LOCK);
  }
  return r;
}

export function channelRecv(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  if ((port.rights & CoportRight.RECV) === 0) return E.left(sysError('EACCES', 'corecv', 'handle lacks RECV'));
  const bad = checkBuffer(m, 'corecv', buf, len, Perm.STORE);
  if (bad !== undefined) return E.left(bad);
  const w = port.words;
  const slot = acquireBrief(w, thread, Rec.STATUS);
  if (slot === NOT_TAKEN) return w.load(Rec.GEN) !== port.gen ? E.left(sysError('EPIPE', 'corecv', 'coport is closed and gone')) : E.left(sysError('EAGAIN', 'corecv', 'channel busy'));
  let r: E.Either<SysError, number>;
  try {
    r = w.load(Rec.GEN) !== port.gen ? E.left(sysError('EPIPE', 'corecv', 'coport is closed and gone')) : ringRead(w, port, buf, len);
  } catch (e) {
    r = faulted('corecv', e);
  } finally {
    releaseBrief(w, thread, slot, Rec.STATUS);
  }
  if (E.isRight(r)) {
    dropEvent(w, Rec.RECV_EVENTS, PollEvent.RERR);
    publish(w, thread);
  } else if (r.left._tag === 'EAGAIN') {
    refused(w, thread, Rec.RECV_EVENTS, PollEvent.RERR);
  }
  return r;
}

/** Bytes in the ring: END − START, counted modulo twice the capacity. */
export function channelHeld(w: WordWindow): number {
  return distance(w.loadAtomic(Rec.START), w.loadAtomic(Rec.END), 2 * w.load(Rec.CAPACITY));
}

/** Poll events a channel has now: IN and OUT from its counters, WERR/RERR as last raised. */
export function channelEvents(w: WordWindow): number {
  const closed = w.loadAtomic(Rec.CLOSED) !== 0;
  const held = channelHeld(w);
  const sticky = (w.load(Rec.SEND_EVENTS) & PollEvent.WERR) | (w.load(Rec.RECV_EVENTS) & PollEvent.RERR);
  return sticky | (held > 0 ? PollEvent.IN : 0) | (!closed && held < w.load(Rec.CAPACITY) ? PollEvent.OUT : 0) | (closed ? PollEvent.CLOSED : 0);
}

/**
 * What is wrong with a channel's record at rest (no operation under way): locks held,
 * counters out of range, or an end's reading of the other's counter ahead of it.
 */
export function channelProblems(w: WordWindow): string[] {
  const problems: string[] = [];
  if (w.load(Rec.STATUS) !== Status.OPEN || w.load(Rec.SEND_LOCK) !== Status.OPEN) problems.push('lock held at rest');
  const cap = w.load(Rec.CAPACITY);
  const wrap = Math.max(2 * cap, 1);
  const [start, end] = [w.load(Rec.START), w.load(Rec.END)];
  for (const off of [Rec.START, Rec.END, Rec.RECV_END, Rec.SEND_START]) if (w.load(off) < 0 || w.load(off) >= wrap) problems.push('ring count out of range');
  const held = distance(start, end, wrap);
  if (held > cap) problems.push(`length ${held} outside [0, ${cap}]`);
  if (distance(start, w.load(Rec.RECV_END), wrap) > held) problems.push("receivers' reading of END is ahead of END");
  const sendersHeld = distance(w.load(Rec.SEND_START), end, wrap);
  if (sendersHeld < held || sendersHeld > cap) problems.push("senders' reading of START is ahead of START");
  return problems;
}

/** `to − from` for counters kept modulo `wrap` (twice the capacity), without a division. */
function distance(from: number, to: number, wrap: number): number {
  const d = to - from;
  return d < 0 ? d + wrap : d;
}

/**
 * Copy into the ring, under the send lock (all or nothing). START is re-read only when the
 * senders' last reading of it leaves too little room; the END store commits.
 */
function ringWrite(w: WordWindow, port: ResolvedPort, buf: Capability, len: number, cap: number): E.Either<SysError, number> {
  const wrap = 2 * cap;
  const end = w.load(Rec.END);
  let start = w.load(Rec.SEND_START);
  if (distance(start, end, wrap) + len > cap) {
    start = w.loadAtomic(Rec.START);
    w.store(Rec.SEND_START, start);
    if (distance(start, end, wrap) + len > cap) return CHANNEL_FULL;
  }
  const ring = port.table.ring(port);
  const at = end >= cap ? end - cap : end;
  const first = Math.min(len, cap - at);
  ring.copyIn(at, buf, 0, first);
  if (first < len) ring.copyIn(0, buf, first, len - first);
  const next = end + len;
  w.store(Rec.END, next >= wrap ? next - wrap : next);
  return moved(len);
}

/**
 * Copy out of the ring, under the receive lock: what is there, up to `len`. END is re-read
 * only when the receivers' last reading of it shows fewer than `len` bytes; the START store
 * commits.
 */
function ringRead(w: WordWindow, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  const cap = w.load(Rec.CAPACITY);
  const wrap = 2 * cap;
  const start = w.load(Rec.START);
  let end = w.load(Rec.RECV_END);
  if (distance(start, end, wrap) < len) {
    end = w.loadAtomic(Rec.END);
    w.store(Rec.RECV_END, end);
  }
  if (end === start) {
    // Closed is read before END, and only when no send is under way: every send committed
    // before the close is then in END, and none can commit after it (a sender checks CLOSED
    // under its lock). A send under way answers EAGAIN: its publish wakes the waiter.
    const closed = w.loadAtomic(Rec.CLOSED) !== 0 && w.loadAtomic(Rec.SEND_LOCK) === Status.OPEN;
    end = w.loadAtomic(Rec.END);
    if (end !== start) w.store(Rec.RECV_END, end);
    else return closed ? E.left(sysError('EPIPE', 'corecv', 'coport is closed and drained')) : CHANNEL_EMPTY;
  }
  const n = Math.min(len, distance(start, end, wrap));
  const ring = port.table.ring(port);
  const at = start >= cap ? start - cap : start;
  const first = Math.min(n, cap - at);
  ring.copyOut(at, buf, 0, first);
  if (first < n) ring.copyOut(0, buf, first, n - first);
  const next = start + n;
  w.store(Rec.START, next >= wrap ? next - wrap : next);
  return moved(n);
}

/**
 * The answers a stream gives over and over, made once (frozen, so no caller can change one
 * another caller gets): a full ring, an empty one, and "moved n bytes" for the counts seen
 * lately (a small direct-mapped table). Each used to be a fresh object per message on both
 * ends of a stream, and those were most of what a threads send allocated — collected by
 * young-generation GCs that stalled the stream (docs/DESIGN.md, "What bounds a threads
 * COCHANNEL stream").
 */
const CHANNEL_FULL: E.Either<SysError, never> = Object.freeze(E.left(sysError('EWOULDBLOCK', 'cosend', 'channel full')));
const CHANNEL_EMPTY: E.Either<SysError, never> = Object.freeze(E.left(sysError('EAGAIN', 'corecv', 'channel empty')));
const movedLately: Array<E.Right<number> | undefined> = new Array<E.Right<number> | undefined>(256).fill(undefined);

function moved(n: number): E.Either<never, number> {
  const i = (n ^ (n >>> 8)) & 255;
  const hit = movedLately[i];
  if (hit !== undefined && hit.right === n) return hit;
  return (movedLately[i] = Object.freeze(E.right(n)) as E.Right<number>);
}

/** A refused operation raises its error event (WERR/RERR) for pollers, once. */
function refused(w: WordWindow, thread: CoThreadApi, offset: number, event: number): void {
  if (raiseEvent(w, offset, event)) publish(w, thread);
}
