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
import { Rec, Status, acquire, publish, release, updateEvents } from './port-record.js';
import type { ResolvedPort } from './port-table.js';

export function channelSend(m: CapMachine, thread: CoThreadApi, port: ResolvedPort, buf: Capability, len: number): E.Either<SysError, number> {
  if ((port.rights & CoportRight.SEND) === 0) return E.left(sysError('EACCES', 'cosend', 'handle lacks SEND'));
  const bad = checkBuffer(m, 'cosend', buf, len, Perm.LOAD);
  if (bad !== undefined) return E.left(bad);
  const rec = port.rec;
  if (m.loadI32(rec, Rec.GEN) !== port.gen || m.loadI32(rec, Rec.CLOSED) !== 0) return E.left(sysError('EPIPE', 'cosend', 'coport is closed'));
  const cap = m.loadI32(rec, Rec.CAPACITY);
  if (len > cap) return E.left(sysError('EMSGSIZE', 'cosend', `${len} bytes never fit a ${cap}-byte channel`));
  if (m.loadI32(rec, Rec.LENGTH) + len > cap) return refused(m, thread, rec, PollEvent.WERR, sysError('EWOULDBLOCK', 'cosend', 'channel full'));
  if (!acquire(m, rec, Status.OPEN)) return E.left(sysError('EAGAIN', 'cosend', 'channel busy'));
  let r: E.Either<SysError, number>;
  try {
    r = ringWrite(m, rec, port.table.ring(port), buf, len, cap);
  } catch (e) {
    r = faulted('cosend', e);
  }
  release(m, rec, Status.OPEN);
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
  if (m.loadI32(rec, Rec.LENGTH) === 0 && m.loadI32(rec, Rec.CLOSED) === 0) return refused(m, thread, rec, PollEvent.RERR, sysError('EAGAIN', 'corecv', 'channel empty'));
  if (!acquire(m, rec, Status.OPEN)) return E.left(sysError('EAGAIN', 'corecv', 'channel busy'));
  let r: E.Either<SysError, number>;
  try {
    r = ringRead(m, rec, port.table.ring(port), buf, len);
  } catch (e) {
    r = faulted('corecv', e);
  }
  release(m, rec, Status.OPEN);
  if (E.isRight(r)) publish(m, thread, rec);
  else if (r.left._tag === 'EAGAIN') return refused(m, thread, rec, PollEvent.RERR, r.left);
  return r;
}

/** Copy into the ring under the port lock (all or nothing). */
function ringWrite(m: CapMachine, rec: Capability, ring: Capability, buf: Capability, len: number, cap: number): E.Either<SysError, number> {
  const held = m.loadI32(rec, Rec.LENGTH);
  if (held + len > cap) return E.left(sysError('EWOULDBLOCK', 'cosend', 'channel full'));
  const end = m.loadI32(rec, Rec.END);
  const first = Math.min(len, cap - end);
  m.copy(ring, end, buf, 0, first, true);
  if (first < len) m.copy(ring, 0, buf, first, len - first, true);
  m.storeI32(rec, Rec.END, (end + len) % cap);
  m.storeI32(rec, Rec.LENGTH, held + len);
  updateEvents(m, rec, PollEvent.IN, (held + len === cap ? PollEvent.OUT : 0) | PollEvent.WERR);
  return E.right(len);
}

/** Copy out of the ring under the port lock: what is there, up to `len`. */
function ringRead(m: CapMachine, rec: Capability, ring: Capability, buf: Capability, len: number): E.Either<SysError, number> {
  const held = m.loadI32(rec, Rec.LENGTH);
  if (held === 0) {
    return m.loadI32(rec, Rec.CLOSED) !== 0
      ? E.left(sysError('EPIPE', 'corecv', 'coport is closed and drained'))
      : E.left(sysError('EAGAIN', 'corecv', 'channel empty'));
  }
  const cap = m.loadI32(rec, Rec.CAPACITY);
  const n = Math.min(len, held);
  const start = m.loadI32(rec, Rec.START);
  const first = Math.min(n, cap - start);
  m.copy(buf, 0, ring, start, first, true);
  if (first < n) m.copy(buf, first, ring, 0, n - first, true);
  m.storeI32(rec, Rec.START, (start + n) % cap);
  m.storeI32(rec, Rec.LENGTH, held - n);
  const closed = m.loadI32(rec, Rec.CLOSED) !== 0;
  updateEvents(m, rec, closed ? 0 : PollEvent.OUT, (held - n === 0 ? PollEvent.IN : 0) | PollEvent.RERR);
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
