/**
 * COCHANNEL: a byte ring in ipcd memory that clients' own threads copy into and out of,
 * inside CInvoke (spec §3.5). Sends are all-or-nothing (EWOULDBLOCK when they do not fit);
 * a receive takes what is there up to the requested length — never stale bytes (fixes §8.15).
 * After close, senders get EPIPE and receivers drain what is left, then get EPIPE.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Perm, sysError, type Capability, type CapMachine, type CoThreadApi, type SysError, type WordWindow } from '@comsg/capmachine';
import { CoportRight, PollEvent } from '../protocol/types.js';
import { checkBuffer, faulted } from './checks.js';
import { NOT_TAKEN, Rec, Status, acquire, publish, release, updateEvents } from './port-record.js';
import type { ResolvedPort } from './port-table.js';

export function channelSend(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  if ((port.rights & CoportRight.SEND) === 0) return E.left(sysError('EACCES', 'cosend', 'handle lacks SEND'));
  const bad = checkBuffer(m, 'cosend', buf, len, Perm.LOAD);
  if (bad !== undefined) return E.left(bad);
  const w = port.words;
  if (w.load(Rec.GEN) !== port.gen || w.load(Rec.CLOSED) !== 0) return E.left(sysError('EPIPE', 'cosend', 'coport is closed'));
  const cap = w.load(Rec.CAPACITY);
  if (len > cap) return E.left(sysError('EMSGSIZE', 'cosend', `${len} bytes never fit a ${cap}-byte channel`));
  if (channelHeld(w) + len > cap) return refused(w, thread, PollEvent.WERR, sysError('EWOULDBLOCK', 'cosend', 'channel full'));
  const slot = acquire(w, thread, Status.OPEN);
  if (slot === NOT_TAKEN) return E.left(sysError('EAGAIN', 'cosend', 'channel busy'));
  let r: E.Either<SysError, number>;
  try {
    r = ringWrite(m, w, port.table.ring(port), buf, len, cap);
  } catch (e) {
    r = faulted('cosend', e);
  }
  release(w, thread, slot, Status.OPEN);
  if (E.isRight(r)) publish(w, thread);
  return r;
}

export function channelRecv(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  if ((port.rights & CoportRight.RECV) === 0) return E.left(sysError('EACCES', 'corecv', 'handle lacks RECV'));
  const bad = checkBuffer(m, 'corecv', buf, len, Perm.STORE);
  if (bad !== undefined) return E.left(bad);
  const w = port.words;
  if (w.load(Rec.GEN) !== port.gen) return E.left(sysError('EPIPE', 'corecv', 'coport is closed and gone'));
  // Empty and open: refuse without taking the lock a sender may want.
  if (channelHeld(w) === 0 && w.load(Rec.CLOSED) === 0) return refused(w, thread, PollEvent.RERR, sysError('EAGAIN', 'corecv', 'channel empty'));
  const slot = acquire(w, thread, Status.OPEN);
  if (slot === NOT_TAKEN) return E.left(sysError('EAGAIN', 'corecv', 'channel busy'));
  let r: E.Either<SysError, number>;
  try {
    r = ringRead(m, w, port.table.ring(port), buf, len);
  } catch (e) {
    r = faulted('corecv', e);
  }
  release(w, thread, slot, Status.OPEN);
  if (E.isRight(r)) publish(w, thread);
  else if (r.left._tag === 'EAGAIN') return refused(w, thread, PollEvent.RERR, r.left);
  return r;
}

/** Bytes in the ring: END − START, counted modulo twice the capacity. */
export function channelHeld(w: WordWindow): number {
  const wrap = 2 * w.load(Rec.CAPACITY);
  return (w.load(Rec.END) - w.load(Rec.START) + wrap) % Math.max(wrap, 1);
}

/**
 * Copy into the ring under the port lock (all or nothing). The END store commits; events
 * change around it so that a writer dying mid-way leaves at worst a spurious IN or OUT
 * (a poller re-checks), never a missing one.
 */
function ringWrite(m: CapMachine, w: WordWindow, ring: Capability, buf: Capability, len: number, cap: number): E.Either<SysError, number> {
  const start = w.load(Rec.START);
  const end = w.load(Rec.END);
  const held = (end - start + 2 * cap) % (2 * cap);
  if (held + len > cap) return E.left(sysError('EWOULDBLOCK', 'cosend', 'channel full'));
  const at = end % cap;
  const first = Math.min(len, cap - at);
  m.copy(ring, at, buf, 0, first, true);
  if (first < len) m.copy(ring, 0, buf, first, len - first, true);
  updateEvents(w, PollEvent.IN, 0);
  w.store(Rec.END, (end + len) % (2 * cap));
  updateEvents(w, 0, (held + len === cap ? PollEvent.OUT : 0) | PollEvent.WERR);
  return E.right(len);
}

/** Copy out of the ring under the port lock: what is there, up to `len`. The START store commits. */
function ringRead(m: CapMachine, w: WordWindow, ring: Capability, buf: Capability, len: number): E.Either<SysError, number> {
  const cap = w.load(Rec.CAPACITY);
  const start = w.load(Rec.START);
  const held = (w.load(Rec.END) - start + 2 * cap) % (2 * cap);
  if (held === 0) {
    return w.load(Rec.CLOSED) !== 0 ? E.left(sysError('EPIPE', 'corecv', 'coport is closed and drained')) : E.left(sysError('EAGAIN', 'corecv', 'channel empty'));
  }
  const n = Math.min(len, held);
  const at = start % cap;
  const first = Math.min(n, cap - at);
  m.copy(buf, 0, ring, at, first, true);
  if (first < n) m.copy(buf, first, ring, 0, n - first, true);
  const closed = w.load(Rec.CLOSED) !== 0;
  updateEvents(w, closed ? 0 : PollEvent.OUT, 0);
  w.store(Rec.START, (start + n) % (2 * cap));
  updateEvents(w, 0, (held - n === 0 ? PollEvent.IN : 0) | PollEvent.RERR);
  return E.right(n);
}

/** A refused operation raises its error event (WERR/RERR) for pollers, once. */
function refused(w: WordWindow, thread: CoThreadApi, event: number, error: SysError): E.Either<SysError, never> {
  if ((w.load(Rec.EVENTS) & event) === 0) {
    updateEvents(w, event, 0);
    publish(w, thread);
  }
  return E.left(error);
}
