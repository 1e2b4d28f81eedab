/**
 * COPIPE: a synchronous rendezvous (spec §3.6). The receiver publishes a write-only capability
 * to its own buffer, bounded to the length it asked for, and waits; one sender copies straight
 * into it. Both sides take timeouts, close wakes them, and an abandoned receive is withdrawn
 * (fixes §8.17). Status: OPEN → (receiver) READY → (sender) BUSY → DONE → (receiver) OPEN.
 * READY and DONE name the receiver, which stays registered for the whole receive (a robust
 * word, see port-record): a receiver that dies waiting puts the pipe back to OPEN, and a
 * sender that dies mid-copy puts it back to READY for the next sender.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Perm, errnoName, ownedBy, ownerOf, stateOf, sysError, type Capability, type CapMachine, type CoThreadApi, type SysError, type WordWindow } from '@comsg/capmachine';
import { CoportRight } from '../protocol/types.js';
import { checkBuffer, deadline, guarded, remaining, retrying } from './checks.js';
import { NOT_TAKEN, Rec, Status, acquire, clearBuf, handOn, publish, release, unwatchSeq, watchSeq } from './port-record.js';
import type { ResolvedPort } from './port-table.js';

/** The refusals a stream meets on every other message: immutable values, made once. */
const NO_RECEIVER = E.left(sysError('EAGAIN', 'cosend', 'no receiver waiting'));
const PIPE_BUSY = E.left(sysError('EAGAIN', 'corecv', 'another receive is in progress'));

/**
 * The record's window for the next step: the port's own while the record is live (of a
 * window's check only revocation can change), else a fresh one, which faults as any access
 * to a revoked record does.
 */
function windowOf(m: CapMachine, port: ResolvedPort): WordWindow {
  return m.isLive(port.rec) ? port.words : m.words(port.rec);
}

/** Non-blocking send: succeeds only if a receiver is waiting right now (else EAGAIN). */
export function pipeSend(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  if ((port.rights & CoportRight.SEND) === 0) return E.left(sysError('EACCES', 'cosend', 'handle lacks SEND'));
  const bad = checkBuffer(m, 'cosend', buf, len, Perm.LOAD);
  if (bad !== undefined) return E.left(bad);
  return pipeSendChecked(m, thread, port, port.words, buf, len);
}

/** pipeSend after the argument checks, through an open window on the record. */
function pipeSendChecked(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, w: WordWindow, buf: Capability, len: number): E.Either<SysError, number> {
  if (w.load(Rec.GEN) !== port.gen || w.load(Rec.CLOSED) !== 0) return E.left(sysError('EPIPE', 'cosend', 'coport is closed'));
  const ready = w.load(Rec.STATUS);
  const slot = stateOf(ready) === Status.READY ? acquire(w, thread, ready) : NOT_TAKEN;
  if (slot === NOT_TAKEN) return NO_RECEIVER;
  const dst = m.loadCap(w.cap, Rec.BUF);
  if (len > dst.topNumber - dst.addressNumber) {
    release(w, thread, slot, ready); // the receiver keeps waiting; the sender may retry with less
    return E.left(sysError('EMSGSIZE', 'cosend', `receiver's buffer holds ${dst.length} bytes`));
  }
  const r = guarded('cosend', () => {
    m.copy(dst, 0, buf, 0, len, true);
    return E.right(len);
  });
  w.store(Rec.RESULT, E.isRight(r) ? len : -r.left.errno);
  release(w, thread, slot, ownedBy(Status.DONE, ownerOf(ready)));
  publish(w, thread);
  return r;
}

export async function pipeSendWait(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number, timeoutMs: number): Promise<E.Either<SysError, number>> {
  const first = pipeSend(m, thread, port, buf, len);
  if (E.isRight(first) || first.left._tag !== 'EAGAIN') return first;
  const rec = port.rec;
  // The window is re-checked after every wait (windowOf): one check lives for one step, never across a sleep.
  let w = windowOf(m, port);
  // Announce a waiting sender (copoll reports IN to receivers).
  w.add(Rec.SENDERS, 1);
  publish(w, thread);
  try {
    return await retrying(m, thread, rec, 'cosend', timeoutMs, () => {
      w = windowOf(m, port);
      if (w.load(Rec.GEN) !== port.gen) return E.left(sysError('EPIPE', 'cosend', 'coport is gone'));
      return pipeSendChecked(m, thread, port, w, buf, len);
    });
  } finally {
    w = windowOf(m, port);
    if (w.load(Rec.GEN) === port.gen) {
      if (w.add(Rec.SENDERS, -1) <= 0) w.add(Rec.SENDERS, 1); // never below zero (a reused record)
      publish(w, thread);
    }
  }
}

/**
 * Receive: wait for the pipe to be free (one receive at a time), publish the buffer, wait for a
 * sender. Returns the bytes written. A timeout withdraws the buffer (ETIMEDOUT) unless a
 * sender already claimed it, in which case the receive completes.
 */
export async function pipeRecvWait(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number, timeoutMs: number): Promise<E.Either<SysError, number>> {
  if ((port.rights & CoportRight.RECV) === 0) return E.left(sysError('EACCES', 'corecv', 'handle lacks RECV'));
  const bad = checkBuffer(m, 'corecv', buf, len, Perm.STORE);
  if (bad !== undefined) return E.left(bad);
  const rec = port.rec;
  const due = deadline(thread.now(), timeoutMs);
  // 1. Claim the pipe (registered until the receive ends: see the header). Usually free: only
  // a contended pipe pays for the retry loop's promise.
  let claimed = claimPipe(m, thread, port);
  if (E.isLeft(claimed) && claimed.left._tag === 'EAGAIN') claimed = await retrying(m, thread, rec, 'corecv', timeoutMs, () => claimPipe(m, thread, port));
  if (E.isLeft(claimed)) return claimed;
  const w = windowOf(m, port);
  const slot = claimed.right;
  const mine = { ready: ownedBy(Status.READY, thread.tid), done: ownedBy(Status.DONE, thread.tid), busy: ownedBy(Status.BUSY, thread.tid) };
  const published = guarded('corecv', () => {
    m.storeCap(rec, Rec.BUF, port.table.receiveView(buf, len));
    return E.right(0);
  });
  if (E.isLeft(published)) {
    release(w, thread, slot, Status.OPEN);
    return published;
  }
  w.store(Rec.RESULT, 0);
  // Counted as SEQ's waiter before the buffer is on offer, so a sender's DONE always wakes us.
  watchSeq(m, rec);
  try {
    handOn(w, thread, mine.ready);
    publish(w, thread);
    return await awaitSender(m, thread, port, slot, mine, due, timeoutMs);
  } finally {
    unwatchSeq(m, rec);
  }
}

/**
 * Take the pipe for one receive (OPEN → BUSY, this thread registered), or say why not. A
 * function of its own, not a closure per receive: run from sources, tsx names every closure
 * bound to a variable (an Object.defineProperty per receive, a tenth of a COPIPE message).
 */
function claimPipe(m: CapMachine, thread: CoThreadApi, port: ResolvedPort): E.Either<SysError, number> {
  const w = windowOf(m, port);
  if (w.load(Rec.GEN) !== port.gen || w.load(Rec.CLOSED) !== 0) return E.left(sysError('EPIPE', 'corecv', 'coport is closed'));
  const taken = acquire(w, thread, Status.OPEN);
  return taken !== NOT_TAKEN ? E.right(taken) : PIPE_BUSY;
}

/** Step 2 of a receive: wait until a sender marks the buffer DONE (or close, timeout, death). */
async function awaitSender(
  m: CapMachine,
  thread: CoThreadApi,
  port: ResolvedPort,
  slot: number,
  mine: { readonly ready: number; readonly done: number; readonly busy: number },
  due: number,
  timeoutMs: number,
): Promise<E.Either<SysError, number>> {
  const rec = port.rec;
  let w: WordWindow;
  for (;;) {
    w = windowOf(m, port);
    const seq = w.load(Rec.SEQ);
    if (w.load(Rec.GEN) !== port.gen) {
      thread.robustLeave(slot);
      return E.left(sysError('EPIPE', 'corecv', 'coport is gone'));
    }
    if (w.compareExchange(Rec.STATUS, mine.done, mine.busy) === mine.done) return collect(m, thread, w, slot);
    const closed = w.load(Rec.CLOSED) !== 0;
    const left = remaining(thread.now(), due);
    if (closed || left === 0) {
      if (cancel(m, thread, w, slot, mine.ready)) {
        return E.left(closed ? sysError('EPIPE', 'corecv', 'coport closed while waiting') : sysError('ETIMEDOUT', 'corecv', `no sender within ${timeoutMs} ms`));
      }
      continue; // a sender holds the buffer right now: it finishes in one copy
    }
    const why = await thread.futexWait([{ cap: rec, offset: Rec.SEQ, expected: seq }], left);
    if (why === 'closed' || why === 'deadlock') {
      // If a sender holds the buffer right now, the registration stays: it will mark the pipe
      // DONE for this thread, and the runtime rolls that back when this (ending) thread is gone.
      cancel(m, thread, windowOf(m, port), slot, mine.ready);
      return E.left(sysError(why === 'closed' ? 'EINTR' : 'EDEADLK', 'corecv', `wait ended: ${why}`));
    }
  }
}

/** Withdraw a published buffer no sender has claimed; false if one holds it right now. */
function cancel(m: CapMachine, thread: CoThreadApi, w: WordWindow, slot: number, ready: number): boolean {
  if (w.compareExchange(Rec.STATUS, ready, ownedBy(Status.BUSY, thread.tid)) !== ready) return false;
  clearBuf(m, w.cap);
  release(w, thread, slot, Status.OPEN);
  publish(w, thread);
  return true;
}

function collect(m: CapMachine, thread: CoThreadApi, w: WordWindow, slot: number): E.Either<SysError, number> {
  const n = w.load(Rec.RESULT);
  clearBuf(m, w.cap);
  w.store(Rec.RESULT, 0);
  release(w, thread, slot, Status.OPEN);
  publish(w, thread);
  if (n >= 0) return E.right(n);
  return E.left(sysError(errnoName(-n) ?? 'EFAULT', 'corecv', 'the sender could not write the buffer'));
}

/** copipe_ready: a receiver is waiting right now. */
export function pipeReady(m: CapMachine, rec: Capability): boolean {
  return stateOf(m.loadI32(rec, Rec.STATUS)) === Status.READY;
}
