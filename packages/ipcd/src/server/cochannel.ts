/**
 * COCHANNEL: a byte ring in ipcd memory that clients' own threads copy into and out of,
 * inside CInvoke (spec §3.5). Sends are all-or-nothing (EWOULDBLOCK when they do not fit);
 * a receive takes what is there up to the requested length — never stale bytes (fixes §8.15).
 * After close, senders get EPIPE and receivers drain what is left, then get EPIPE.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Perm, sysError, type Capability, type CapMachine, type CoThreadApi, type SysError } from '@comsg/capmachine';
import { CoportRight, PollEvent } from '../protocol/types.js';
import { checkBuffer, faulted } from './checks.js';
import { NOT_TAKEN, Rec, Status, acquire, publish, release, updateEvents } from './port-record.js';
import type { ResolvedPort } from './port-table.js';

export function channelSend(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  if ((port.rights & CoportRight.SEND) === 0) return E.left(sysError('EACCES', 'cosend', 'handle lacks SEND'));
  const bad = checkBuffer(m, 'cosend', buf, len, Perm.LOAD);
  if (bad !== undefined) return E.left(bad);
  const rec = port.rec;
  if (m.loadI32(rec, Rec.GEN) !== port.gen || m.loadI32(rec, Rec.CLOSED) !== 0) return E.left(sysError('EPIPE', 'cosend', 'coport is closed'));
  const cap = m.loadI32(rec, Rec.CAPACITY);
  if (len > cap) return E.left(sysError('EMSGSIZE', 'cosend', `${len} bytes never fit a ${cap}-byte channel`));
  if (channelHeld(m, rec) + len > cap) return refused(m, thread, rec, PollEvent.WERR, sysError('EWOULDBLOCK', 'cosend', 'channel full'));
  const slot = acquire(m, thread, rec, Status.OPEN);
  if (slot === NOT_TAKEN) return E.left(sysError('EAGAIN', 'cosend', 'channel busy'));
  let r: E.Either<SysError, number>;
  try {
    r = ringWrite(m, rec, port.table.ring(port), buf, len, cap);
  } catch (e) {
    r = faulted('cosend', e);
  }
  release(m, thread, rec, slot, Status.OPEN);
  if (E.isRight(r)) publish(m, thread, rec);
  return r;
}

export function channelRecv(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  if ((port.rights & CoportRight.RECV) === 0) return E.left(sysError('EACCES', 'corecv', 'handle lacks RECV'));
  const bad = checkBuffer(m, 'corecv', buf, len, Perm.STORE);
  if (bad !== undefined) return E.left(bad);
  const rec = port.rec;
  if (m.loadI32(rec, Rec.GEN) !== port.gen) return E.left(sysError('EPIPE', 'corecv', 'coport is closed and gone'));
  // Empty and open: refuse without taking the lock a sender may want.
  if (channelHeld(m, rec) === 0 && m.loadI32(rec, Rec.CLOSED) === 0) return refused(m, thread, rec, PollEvent.RERR, sysError('EAGAIN', 'corecv', 'channel empty'));
  const slot = acquire(m, thread, rec, Status.OPEN);
  if (slot === NOT_TAKEN) return E.left(sysError('EAGAIN', 'corecv', 'channel busy'));
  let r: E.Either<SysError, number>;
  try {
    r = ringRead(m, rec, port.table.ring(port), buf, len);
  } catch (e) {
    r = faulted('corecv', e);
  }
  release(m, thread, rec, slot, Status.OPEN);
  if (E.isRight(r)) publish(m, thread, rec);
  else if (r.left._tag === 'EAGAIN') return refused(m, thread, rec, PollEvent.RERR, r.left);
  return r;
}

/** Bytes in the ring: END − START, counted modulo twice the capacity. */
export function channelHeld(m: CapMachine, rec: Capability): number {
  const wrap = 2 * m.loadI32(rec, Rec.CAPACITY);
  return (m.loadI32(rec, Rec.END) - m.loadI32(rec, Rec.START) + wrap) % Math.max(wrap, 1);
}

/**
 * Copy into the ring under the port lock (all or nothing). The END store commits; events
 * change around it so that a writer dying mid-way leaves at worst a spurious IN or OUT
 * (a poller re-checks), never a missing one.
 */
function ringWrite(m: CapMachine, rec: Capability, ring: Capability, buf: Capability, len: number, cap: number): E.Either<SysError, number> {
  const start = m.loadI32(rec, Rec.START);
  const end = m.loadI32(rec, Rec.END);
  const held = (end - start + 2 * cap) % (2 * cap);
  if (held + len > cap) return E.left(sysError('EWOULDBLOCK', 'cosend', 'channel full'));
  const at = end % cap;
  const first = Math.min(len, cap - at);
  m.copy(ring, at, buf, 0, first, true);
  if (first < len) m.copy(ring, 0, buf, first, len - first, true);
  updateEvents(m, rec, PollEvent.IN, 0);
  m.storeI32(rec, Rec.END, (end + len) % (2 * cap));
  updateEvents(m, rec, 0, (held + len === cap ? PollEvent.OUT : 0) | PollEvent.WERR);
  return E.right(len);
}

/** Copy out of the ring under the port lock: what is there, up to `len`. The START store commits. */
function ringRead(m: CapMachine, rec: Capability, ring: Capability, buf: Capability, len: number): E.Either<SysError, number> {
  const cap = m.loadI32(rec, Rec.CAPACITY);
  const start = m.loadI32(rec, Rec.START);
  const held = (m.loadI32(rec, Rec.END) - start + 2 * cap) % (2 * cap);
  if (held === 0) {
    return m.loadI32(rec, Rec.CLOSED) !== 0
      ? E.left(sysError('EPIPE', 'corecv', 'coport is closed and drained'))
      : E.left(sysError('EAGAIN', 'corecv', 'channel empty'));
  }
  const n = Math.min(len, held);
  const at = start % cap;
  const first = Math.min(n, cap - at);
  m.copy(buf, 0, ring, at, first, true);
  if (first < n) m.copy(buf, first, ring, 0, n - first, true);
  const closed = m.loadI32(rec, Rec.CLOSED) !== 0;
  updateEvents(m, rec, closed ? 0 : PollEvent.OUT, 0);
  m.storeI32(rec, Rec.START, (start + n) % (2 * cap));
  updateEvents(m, rec, 0, (held - n === 0 ? PollEvent.IN : 0) | PollEvent.RERR);
  return E.right(n);
}

/** A refused operation raises its error event (WERR/RERR) for pollers, once. */
function refused(m: CapMachine, thread: CoThreadApi, rec: Capability, event: number, error: SysError): E.Either<SysError, never> {
  if ((m.loadI32(rec, Rec.EVENTS) & event) === 0) {
    updateEvents(m, rec, event, 0);
    publish(m, thread, rec);
  }
  return E.left(error);
}
