/**
 * COPIPE: a synchronous rendezvous (spec §3.6), one copy per message, straight from the
 * sender's memory into the receiver's. The receiver publishes a write-only view of its own
 * buffer, bounded to the length it asked for (STATUS: OPEN → READY), and waits; one sender
 * copies into it (READY → BUSY → DONE) and the receiver collects (DONE → OPEN).
 *
 * Inline, a waiting sender may instead offer its message: it publishes a read-only view of it
 * (the OFFER word: OPEN → OFFERED) and waits; the next receiver copies out of it (OFFERED →
 * BUSY → TAKEN) and the sender collects (TAKEN → OPEN). comsg has only the first, so a stream
 * waits twice a message (after each copy the sender waits again while the receiver collects
 * and publishes anew); with offers a producer and consumer that alternate wait once a message,
 * each one's next call finding the other already waiting. Inline a wait is a task switch, so
 * that halves the switches. On threads senders do not offer: both ends run at once, a wait is
 * a spin, and copying alternately on the two cores moved the receiver's buffer between their
 * caches every message (measured slower: see docs/DESIGN.md). Neither side reaches the other's
 * memory beyond the message, and tags never travel (the copies strip them).
 *
 * Both sides take timeouts, close wakes them, and an abandoned receive or offer is withdrawn
 * (fixes §8.17). STATUS is the receivers' word and OFFER the senders', each a robust word (see
 * port-record) that names its thread for the whole operation: a receiver or sender that dies
 * waiting puts its word back to OPEN, and one that dies mid-copy puts the other side's back to
 * READY or OFFERED for the next peer.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Perm, errnoName, ownedBy, ownerOf, stateOf, sysError, type Capability, type CapMachine, type CoThreadApi, type SysError, type WordWindow } from '@comsg/capmachine';
import { CoportRight } from '../protocol/types.js';
import { checkBuffer, deadline, guarded, remaining, retrying } from './checks.js';
import { NOT_TAKEN, Rec, SENDER_SLOT_COUNT, Status, acquire, clearSlot, handOn, publish, release, unwatchSeq, waitingSenders, watchSeq } from './port-record.js';
import type { ResolvedPort } from './port-table.js';

const EMSGSIZE = sysError('EMSGSIZE', 'cosend', '').errno;

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
  const dst = m.loadCap(w.cap, Rec.PIPE_BUF);
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
  if (thread.preemptible) w.add(Rec.DONE_BELL, 1);
  publish(w, thread);
  return r;
}

/**
 * Waiting send: into a waiting receiver's buffer if there is one; else (inline, once the OFFER
 * word is free) offer the message and wait for a receiver to take it, or for the timeout or
 * close. A timeout of 0 never offers: it is the non-blocking send, reporting ETIMEDOUT.
 */
export function pipeSendWait(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number, timeoutMs: number): Promise<E.Either<SysError, number>> {
  const first = pipeSend(m, thread, port, buf, len);
  if (E.isRight(first) || first.left._tag !== 'EAGAIN') return Promise.resolve(first);
  const offers = !thread.preemptible && timeoutMs !== 0;
  // The window is re-checked after every wait (windowOf): one check lives for one step, never across a sleep.
  const w = windowOf(m, port);
  // Announce a waiting sender (copoll reports IN to receivers), in a sender slot if one is free.
  const waiting = announceSender(w, thread);
  // Inline the first try found no receiver, and nothing has run since: offer at once if the
  // OFFER word is free, without the retry loop's promise (half a stream's sends come here).
  // Not an async function either: the offer's wait is then the caller's one promise (awaitPeer's),
  // which withdraws the sender itself when it ends. The offer's publish tells pollers of both.
  const offer = offers ? acquire(w, thread, Status.OPEN, Rec.OFFER) : NOT_TAKEN;
  if (offer !== NOT_TAKEN) return publishAndAwait(m, thread, port, offer, SENDER, buf, len, deadline(thread.now(), timeoutMs), timeoutMs, true, waiting);
  publish(w, thread);
  return sendWaitRetrying(m, thread, port, buf, len, timeoutMs, offers, waiting);
}

/** pipeSendWait once the OFFER word was taken: retry until a receiver waits, or (inline) the OFFER word frees; withdraws the sender at the end. */
async function sendWaitRetrying(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number, timeoutMs: number, offers: boolean, waiting: Announced): Promise<E.Either<SysError, number>> {
  const due = deadline(thread.now(), timeoutMs);
  let offer = NOT_TAKEN;
  let handedOn = false;
  try {
    // On threads, poll READY_BELL (a receiver rings it once it waits) before counting in as a waiter.
    const r = await retrying(m, thread, port.rec, 'cosend', timeoutMs, () => {
      const w = windowOf(m, port);
      if (w.load(Rec.GEN) !== port.gen) return E.left(sysError('EPIPE', 'cosend', 'coport is gone'));
      const direct = pipeSendChecked(m, thread, port, w, buf, len);
      if (!offers || E.isRight(direct) || direct.left._tag !== 'EAGAIN') return direct;
      offer = acquire(w, thread, Status.OPEN, Rec.OFFER);
      return offer === NOT_TAKEN ? direct : OFFERING;
    }, thread.preemptible ? { words: port.words, offset: Rec.READY_BELL, respins: 4 } : undefined);
    if (offer === NOT_TAKEN) return r;
    handedOn = true; // the offer's wait withdraws the sender
    return await publishAndAwait(m, thread, port, offer, SENDER, buf, len, due, timeoutMs, false, waiting);
  } finally {
    if (!handedOn) endSenderWait(m, thread, port, waiting);
  }
}

/** The sender's wait is over: stop counting it, unless the record now belongs to another port (reset then). */
function endSenderWait(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, waiting: Announced): void {
  const w = windowOf(m, port);
  withdrawSender(w, thread, waiting, w.load(Rec.GEN) === port.gen);
}

/** Where a waiting sender counted itself: a sender slot (its robust registration and offset), or the overflow count. */
interface Announced {
  readonly registration: number;
  readonly offset: number;
}

const IN_COUNT: Announced = { registration: -1, offset: -1 };

/**
 * Count the calling thread as a waiting sender: in a free sender slot (robust), else in
 * SENDERS. Inline a plain count is enough: a thread whose co-process ends there has its wait
 * ended and withdraws itself, where a killed worker runs nothing more.
 */
function announceSender(w: WordWindow, thread: CoThreadApi): Announced {
  if (!thread.preemptible) {
    w.add(Rec.SENDERS, 1);
    return IN_COUNT;
  }
  const mine = ownedBy(Status.WAITING, thread.tid);
  for (let i = 0; i < SENDER_SLOT_COUNT; i++) {
    const offset = Rec.SENDER_SLOTS + 4 * i;
    if (w.load(offset) !== 0) continue;
    const registration = thread.robustEnterWord(w.robust(offset, Rec.SEQ), 0);
    if (registration < 0) break; // no registration left: the count will do
    if (w.compareExchange(offset, 0, mine) === 0) return { registration, offset };
    thread.robustLeave(registration);
  }
  w.add(Rec.SENDERS, 1);
  return IN_COUNT;
}

/**
 * Stop counting the calling thread as a waiting sender, and tell pollers. A record reused by
 * another port meanwhile (`samePort` false) was reset when it was: only the registration goes.
 */
function withdrawSender(w: WordWindow, thread: CoThreadApi, at: Announced, samePort: boolean): void {
  if (at !== IN_COUNT) {
    if (samePort) w.compareExchange(at.offset, ownedBy(Status.WAITING, thread.tid), 0);
    thread.robustLeave(at.registration);
  } else if (samePort && w.add(Rec.SENDERS, -1) <= 0) {
    w.add(Rec.SENDERS, 1); // never below zero (a reused record)
  }
  if (samePort) publish(w, thread);
}

/** What the send attempt answers once this thread holds the OFFER word (a send's length is never 0). */
const OFFERING = E.right(0);

/**
 * Receive: wait for the pipe to be free (one receive at a time); take a waiting sender's offer
 * if there is one, else publish the buffer and wait for a sender (taking an offer made
 * meanwhile). Returns the bytes written. A timeout withdraws the buffer (ETIMEDOUT) unless a
 * sender already claimed it, in which case the receive completes.
 */
export function pipeRecvWait(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number, timeoutMs: number): Promise<E.Either<SysError, number>> {
  if ((port.rights & CoportRight.RECV) === 0) return Promise.resolve(E.left(sysError('EACCES', 'corecv', 'handle lacks RECV')));
  const bad = checkBuffer(m, 'corecv', buf, len, Perm.STORE);
  if (bad !== undefined) return Promise.resolve(E.left(bad));
  const due = deadline(thread.now(), timeoutMs);
  // 1. Claim the pipe (registered until the receive ends: see the header). Usually free: then
  // the receive is one promise, awaitPeer's — not an async function awaiting it, whose layer
  // every wake-up would go through again. Only a contended pipe waits its turn first.
  const claimed = claimPipe(m, thread, port);
  if (E.isRight(claimed)) return receiveClaimed(m, thread, port, claimed.right, buf, len, due, timeoutMs, true);
  if (claimed.left._tag !== 'EAGAIN') return Promise.resolve(claimed);
  return retrying(m, thread, port.rec, 'corecv', timeoutMs, () => claimPipe(m, thread, port)).then((c) => (E.isLeft(c) ? c : receiveClaimed(m, thread, port, c.right, buf, len, due, timeoutMs, false)));
}

/**
 * A claimed pipe: take a waiting sender's offer, else publish the buffer and wait (awaitPeer).
 * `fresh`: claimed in this same stretch of code (see awaitPeer).
 */
function receiveClaimed(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, slot: number, buf: Capability, len: number, due: number, timeoutMs: number, fresh: boolean): Promise<E.Either<SysError, number>> {
  const w = windowOf(m, port);
  // 2. A sender waits with an offer already: copy it, done.
  const took = takeOffer(m, thread, w, buf, len);
  if (took !== undefined) {
    release(w, thread, slot, Status.OPEN);
    publish(w, thread);
    return Promise.resolve(took);
  }
  // 3. Publish the buffer and wait.
  return publishAndAwait(m, thread, port, slot, RECEIVER, buf, len, due, timeoutMs, fresh);
}

/**
 * This side holds its word (BUSY): publish its view of `buf` (write-only for a receiver,
 * read-only for a sender, whose length goes in OFFER_LEN), mark the word waiting, and wait for
 * the peer (awaitPeer). A sender passes where it counted itself as waiting (`sender`): that
 * ends with the wait.
 */
function publishAndAwait(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, slot: number, side: Side, buf: Capability, len: number, due: number, timeoutMs: number, fresh: boolean, sender?: Announced): Promise<E.Either<SysError, number>> {
  let watching = false;
  let bell = 0;
  try {
    const w = windowOf(m, port);
    const published = guarded(side.op, () => {
      publishView(m, w, port, side, side === SENDER ? port.table.sendView(buf, len) : port.table.receiveView(buf, len));
      return E.right(0);
    });
    if (E.isLeft(published)) {
      release(w, thread, slot, Status.OPEN, side.word);
      if (sender !== undefined) endSenderWait(m, thread, port, sender);
      return Promise.resolve(published);
    }
    if (side === SENDER) w.store(Rec.OFFER_LEN, len);
    w.store(side.result, 0);
    // Inline: counted as SEQ's waiter before the view is up, so the peer's DONE / TAKEN (or, for
    // a receiver, an offer) always wakes us. On threads awaitPeer polls this side's word first
    // and counts itself only if it must sleep. awaitPeer stops counting when it ends.
    if (!thread.preemptible) {
      watchSeq(m, w);
      watching = true;
    }
    // The bell a waiting peer polls (threads), read before the word shows this side waiting: a
    // peer that rings it from then on is answering us.
    bell = thread.preemptible ? w.load(side.bell) : 0;
    handOn(w, thread, ownedBy(side.waiting, thread.tid), side.word);
    if (thread.preemptible && side === RECEIVER) w.add(Rec.READY_BELL, 1);
    publish(w, thread);
  } catch (e) {
    if (watching) unwatchSeq(m, windowOf(m, port));
    if (sender !== undefined) endSenderWait(m, thread, port, sender);
    throw e;
  }
  return awaitPeer(m, thread, port, slot, side, due, timeoutMs, buf, len, fresh && !thread.preemptible, watching, bell, sender);
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

/** Where one side's exchange lives in the record, and its word's states while it waits and once the peer is done. */
interface Side {
  readonly op: 'cosend' | 'corecv';
  readonly word: number;
  /** The word every write of `view` bumps (see publishView). */
  readonly seq: number;
  /**
   * The doorbell the peer rings when it is done with what this side published (threads). A
   * sender offers only inline, where nothing spins: its bell is its own word.
   */
  readonly bell: number;
  readonly view: number;
  readonly result: number;
  readonly waiting: number;
  readonly done: number;
}

const SENDER: Side = { op: 'cosend', word: Rec.OFFER, seq: Rec.OFFER_SEQ, bell: Rec.OFFER, view: Rec.OFFER_BUF, result: Rec.OFFER_RESULT, waiting: Status.OFFERED, done: Status.TAKEN };
const RECEIVER: Side = { op: 'corecv', word: Rec.STATUS, seq: Rec.VIEW_SEQ, bell: Rec.DONE_BELL, view: Rec.PIPE_BUF, result: Rec.RESULT, waiting: Status.READY, done: Status.DONE };

/**
 * Wait until the peer finishes with what this side published (DONE / TAKEN), or close,
 * timeout, death. A receiver takes an offer made after it published instead, into `buf`.
 * The caller counted this thread as SEQ's waiter (and a sender as waiting, at `sender`); both
 * end here. `fresh`: inline, and everything since the port was found open (and, for a
 * receiver, without an offer) ran in this one stretch of code, so no other thread can have
 * changed anything yet: the first round goes straight to sleep without looking.
 */
async function awaitPeer(
  m: CapMachine,
  thread: CoThreadApi,
  port: ResolvedPort,
  slot: number,
  side: Side,
  due: number,
  timeoutMs: number,
  buf: Capability,
  len: number,
  fresh: boolean,
  watching: boolean,
  bell: number,
  sender: Announced | undefined,
): Promise<E.Either<SysError, number>> {
  const rec = port.rec;
  // This thread's values of its word: published, finished by the peer, held by itself.
  const waiting = ownedBy(side.waiting, thread.tid);
  const done = ownedBy(side.done, thread.tid);
  const busy = ownedBy(Status.BUSY, thread.tid);
  let w: WordWindow;
  let spun = false;
  try {
    for (let first = fresh; ; first = false) {
      w = windowOf(m, port);
      const seq = w.load(Rec.SEQ);
      if (!first) {
        if (w.load(Rec.GEN) !== port.gen) {
          thread.robustLeave(slot);
          return E.left(sysError('EPIPE', side.op, 'coport is gone'));
        }
        if (w.compareExchange(side.word, done, busy) === done) return collect(m, thread, w, slot, side);
        if (side === RECEIVER && stateOf(w.load(Rec.OFFER)) === Status.OFFERED && w.compareExchange(side.word, waiting, busy) === waiting) {
          // Withdrawn while it takes the offer; published again if the offer is gone or refused.
          const took = takeOffer(m, thread, w, buf, len);
          if (took !== undefined) {
            withdrawView(w, side);
            release(w, thread, slot, Status.OPEN);
            publish(w, thread);
            return took;
          }
          handOn(w, thread, waiting);
          publish(w, thread);
          continue;
        }
        const closed = w.load(Rec.CLOSED) !== 0;
        if (closed || remaining(thread.now(), due) === 0) {
          if (cancel(m, thread, w, slot, waiting, side)) {
            return E.left(closed ? sysError('EPIPE', side.op, 'coport closed while waiting') : sysError('ETIMEDOUT', side.op, `no ${side === SENDER ? 'receiver' : 'sender'} within ${timeoutMs} ms`));
          }
          continue; // the peer holds it right now: it finishes in one copy
        }
      }
      if (!watching) {
        // Threads: poll the peer's bell for the spin budget, uncounted, so a peer that finishes
        // within it writes nothing on the shared line (no SEQ bump) for us; then count in as
        // SEQ's waiter and look once more before sleeping (see port-record's publish).
        if (!spun) {
          spun = true;
          if (thread.spinWhile(w, side.bell, bell)) continue;
        }
        watchSeq(m, w);
        watching = true;
        continue;
      }
      const why = await thread.futexWait([{ cap: rec, offset: Rec.SEQ, expected: seq }], remaining(thread.now(), due));
      if (why === 'closed' || why === 'deadlock') {
        // If the peer holds it right now, the registration stays: the peer will mark it
        // DONE/TAKEN for this thread, and the runtime rolls that back when this (ending) thread is gone.
        cancel(m, thread, windowOf(m, port), slot, waiting, side);
        return E.left(sysError(why === 'closed' ? 'EINTR' : 'EDEADLK', side.op, `wait ended: ${why}`));
      }
    }
  } finally {
    if (watching) unwatchSeq(m, windowOf(m, port));
    if (sender !== undefined) endSenderWait(m, thread, port, sender);
  }
}

/**
 * A receiver holding the pipe takes a waiting sender's offer: copies it into `dst` and marks it
 * TAKEN for the sender (the caller publishes that, with its own release of the pipe). An offer
 * longer than `len` goes back to its sender as EMSGSIZE (the receive goes on, as when a sender
 * finds the receiver's buffer too short). Undefined when there was no offer to take, or it was
 * refused.
 */
function takeOffer(m: CapMachine, thread: CoThreadApi, w: WordWindow, dst: Capability, len: number): E.Either<SysError, number> | undefined {
  const offered = w.load(Rec.OFFER);
  if (stateOf(offered) !== Status.OFFERED) return undefined;
  const slot = acquire(w, thread, offered, Rec.OFFER);
  if (slot === NOT_TAKEN) return undefined;
  const n = w.load(Rec.OFFER_LEN);
  let r: E.Either<SysError, number> | undefined;
  if (n > len) {
    w.store(Rec.OFFER_RESULT, -EMSGSIZE);
  } else {
    const src = m.loadCap(w.cap, Rec.OFFER_BUF);
    r = guarded('corecv', () => {
      m.copy(dst, 0, src, 0, n, true);
      return E.right(n);
    });
    w.store(Rec.OFFER_RESULT, E.isRight(r) ? n : -r.left.errno);
  }
  release(w, thread, slot, ownedBy(Status.TAKEN, ownerOf(offered)), Rec.OFFER);
  return r;
}

/** Withdraw what this side published and no peer has claimed; false if the peer holds it right now. */
function cancel(m: CapMachine, thread: CoThreadApi, w: WordWindow, slot: number, waiting: number, side: Side): boolean {
  if (w.compareExchange(side.word, waiting, ownedBy(Status.BUSY, thread.tid)) !== waiting) return false;
  withdrawView(w, side);
  release(w, thread, slot, Status.OPEN, side.word);
  publish(w, thread);
  return true;
}

/**
 * Store this side's view (a receiver's in PIPE_BUF, a sender's offer in OFFER_BUF) — unless
 * the record holds this very view already: this table stored it last, and the slot's
 * sequence word shows no write of it since. A stream sends from and receives into one buffer
 * over and over, and the store (and the empty slot before it) cost a capability encode and
 * writes to two lines the peer then reads: on threads, a sixth of a 64 KiB message. Leaving a
 * view is safe: the peer uses it only while this side's word says it waits (READY, OFFERED),
 * which only the side that stored its view sets; and the view is revoked with its buffer.
 */
function publishView(m: CapMachine, w: WordWindow, port: ResolvedPort, side: Side, view: Capability): void {
  const seq = w.load(side.seq);
  const stored = port.table.storedView(port, side.view);
  if (stored !== undefined && stored.gen === port.gen && stored.view === view && stored.seq === seq) return;
  m.storeCap(w.cap, side.view, view);
  w.store(side.seq, (seq + 1) | 0);
  port.table.rememberView(port, side.view, view, (seq + 1) | 0);
}

/** Empty what this side published (a withdrawn receive or offer), counting the write. */
function withdrawView(w: WordWindow, side: Side): void {
  clearSlot(w, side.view);
  w.store(side.seq, (w.load(side.seq) + 1) | 0);
}

/** The peer finished (DONE / TAKEN, now BUSY again as ours): read the result, free the word. */
function collect(m: CapMachine, thread: CoThreadApi, w: WordWindow, slot: number, side: Side): E.Either<SysError, number> {
  const n = w.load(side.result);
  // The view stays for this side's next exchange (see publishView).
  w.store(side.result, 0);
  release(w, thread, slot, Status.OPEN, side.word);
  // Who waits for the word to be OPEN: other receivers (to claim the pipe), other senders (to offer).
  if (side === RECEIVER || (thread.preemptible ? waitingSenders(w) : w.loadAtomic(Rec.SENDERS)) > 1) publish(w, thread);
  if (n >= 0) return E.right(n);
  return E.left(sysError(errnoName(-n) ?? 'EFAULT', side.op, n === -EMSGSIZE ? "the message is longer than the receiver's buffer" : 'the peer could not copy the message'));
}

/** copipe_ready: a receiver is waiting right now. */
export function pipeReady(m: CapMachine, rec: Capability): boolean {
  return stateOf(m.loadI32(rec, Rec.STATUS)) === Status.READY;
}
