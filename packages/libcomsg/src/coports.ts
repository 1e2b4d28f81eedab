/**
 * Coports for programs (spec §9.5): open, close, send, receive, poll, restrict. COCHANNEL and
 * COPIPE data never enters the microkernel: the library CInvokes the type's entry (ipcd's code,
 * sealed by ipcd) with the port handle, and the copy runs on the caller's thread. COCARRIER
 * sends and receives are ipcd calls. Every function returns `Either<ComsgError, T>` (a Promise
 * where it may wait); every wait takes `timeoutMs` (0 = do not wait, negative = no limit).
 */
import * as E from 'fp-ts/lib/Either.js';
import { Capability, Perm, isCapabilityFault, sysError, type CoThreadApi, type SysError } from '@comsg/capmachine';
import {
  AttachmentType,
  COPORT_TYPES,
  CoportRight,
  MAX_ATTACHMENTS,
  PollEvent,
  coclose as cocloseOp,
  coopen as coopenOp,
  coportEntry,
  coportMsgFree as coportMsgFreeOp,
  corecv as corecvOp,
  cosend as cosendOp,
  fromAttachmentRegisters,
  toAttachmentRegisters,
  type AttachmentTypeName,
  type CoportTypeName,
  type EntryRequest,
  type EntryResults,
  type PortInfo,
} from '@comsg/ipcd/protocol';
import type { UkernThread } from '@comsg/libcoproc';
import { codelete, coinsert, type ComsgError } from './namespaces.js';

export { CoportRight, PollEvent, type CoportTypeName, type PortInfo };

export interface WaitOptions {
  /** 0 = fail at once with EAGAIN/EWOULDBLOCK; negative = no limit. */
  readonly timeoutMs?: number;
}

type FoundEntry = { readonly type: CoportTypeName; readonly entry: Capability; readonly port: Capability };

/** A non-blocking send or receive request, refilled in place (see CoportEntries.request). */
type SyncRequest = { -readonly [K in keyof Extract<EntryRequest, { op: 'send' | 'recv' }>]: Extract<EntryRequest, { op: 'send' | 'recv' }>[K] };

/**
 * The coport entries a session has linked, by type, and the last handle looked up: a stream
 * sends through one handle, so its lookups are one identity check.
 */
class CoportEntries {
  readonly #byType = new Map<CoportTypeName, Capability>();
  #send: SyncRequest | undefined;
  #recv: SyncRequest | undefined;
  #lastPort: Capability | undefined;
  #lastFound: FoundEntry | undefined;

  get(type: CoportTypeName): Capability | undefined {
    return this.#byType.get(type);
  }

  set(type: CoportTypeName, entry: Capability): void {
    this.#byType.set(type, entry);
    this.#lastPort = undefined;
    this.#lastFound = undefined;
  }

  /**
   * The request of a non-blocking send or receive, one object per op refilled each call: the
   * entry reads a non-blocking request only while it runs (protocol/entry.ts), and a fresh
   * object per message was most of what a stream's sync send allocated (young-generation GCs
   * that stalled threads streams).
   */
  request(op: 'send' | 'recv', buf: Capability, len: number, thread: CoThreadApi): SyncRequest {
    const r = op === 'send' ? this.#send : this.#recv;
    if (r === undefined) {
      const made: SyncRequest = { op, buf, len, thread };
      if (op === 'send') this.#send = made;
      else this.#recv = made;
      return made;
    }
    r.buf = buf;
    r.len = len;
    r.thread = thread;
    return r;
  }

  /** A sealed handle's type and entry, recognised by its otype (entries share their type's otype). */
  find(port: unknown): FoundEntry | undefined {
    if (port === this.#lastPort) return this.#lastFound;
    if (!Capability.is(port) || !port.tag || !port.sealed) return undefined;
    for (const [type, entry] of this.#byType) {
      if (entry.otype !== port.otype) continue;
      this.#lastPort = port;
      this.#lastFound = { type, entry, port };
      return this.#lastFound;
    }
    return undefined;
  }
}

const ENTRIES = Symbol('libcomsg: coport entries');

function entriesOf(k: UkernThread): CoportEntries {
  const state = k.session.libraryState;
  return (state[ENTRIES] as CoportEntries | undefined) ?? (state[ENTRIES] = new CoportEntries());
}

/** The entry for a type, fetched from ipcd once per session. */
async function entryOfType(k: UkernThread, type: CoportTypeName): Promise<E.Either<ComsgError, Capability>> {
  const cached = entriesOf(k).get(type);
  if (cached !== undefined) return E.right(cached);
  const r = await k.call(coportEntry, { type });
  if (E.isLeft(r)) return r;
  const linked = await rememberEntry(k, type, r.right.entry);
  return E.map(() => r.right.entry)(linked);
}

/**
 * Link a type's entry into this co-process (its code must be runnable on our thread before
 * the first CInvoke: a no-op inline, a module import on a threads worker) and cache it.
 */
async function rememberEntry(k: UkernThread, type: CoportTypeName, entry: Capability): Promise<E.Either<ComsgError, void>> {
  if (entriesOf(k).get(type) === entry) return E.right(undefined);
  const linked = await k.session.ctx.linkCode(entry);
  if (E.isLeft(linked)) return linked;
  entriesOf(k).set(type, entry);
  return E.right(undefined);
}

/** A port's type and entry, recognised by its otype (entries share their type's otype). */
async function entryOf(k: UkernThread, port: unknown, op: string): Promise<E.Either<ComsgError, FoundEntry>> {
  if (!Capability.is(port) || !port.tag || !port.sealed) return E.left(sysError('EINVAL', op, 'not a coport handle'));
  const known = entriesOf(k).find(port);
  if (known !== undefined) return E.right(known);
  for (const type of COPORT_TYPES) {
    if (entriesOf(k).get(type) !== undefined) continue;
    const r = await entryOfType(k, type);
    if (E.isLeft(r)) return r;
  }
  const found = entriesOf(k).find(port);
  return found === undefined ? E.left(sysError('EINVAL', op, 'not a coport handle')) : E.right(found);
}

function knownEntry(k: UkernThread, port: unknown): FoundEntry | undefined {
  return entriesOf(k).find(port);
}

/** CInvoke the entry; a fault means the handle does not belong to it. */
function invoke<R extends EntryRequest>(k: UkernThread, entry: Capability, port: Capability, req: R): EntryResults[R['op']] | SysError {
  try {
    return k.session.ctx.machine.cinvoke(entry, port, req) as EntryResults[R['op']];
  } catch (e) {
    if (isCapabilityFault(e)) return sysError('EINVAL', req.op, `not a usable coport handle: ${e.message}`);
    throw e;
  }
}

/** A refusal that waiting could turn into progress (a full or empty channel). */
function mayWait(r: E.Either<ComsgError, unknown>): boolean {
  return E.isLeft(r) && (r.left._tag === 'EAGAIN' || r.left._tag === 'EWOULDBLOCK');
}

function isSysError(x: unknown): x is SysError {
  return typeof x === 'object' && x !== null && '_tag' in x && 'errno' in x && !('right' in x) && !('left' in x);
}

export interface OpenOptions {
  /** COCHANNEL ring size in bytes (default 4096). */
  readonly capacity?: number;
}

/** coopen: a fresh port handle with every right (RECV, SEND, CLOSE). */
export async function openCoport(k: UkernThread, type: CoportTypeName, options: OpenOptions = {}): Promise<E.Either<ComsgError, Capability>> {
  if (!COPORT_TYPES.includes(type)) return E.left(sysError('EINVAL', 'coopen', `unknown coport type ${String(type)}`));
  const capacity = options.capacity ?? 0;
  if (!Number.isInteger(capacity) || capacity < 0) return E.left(sysError('EINVAL', 'coopen', 'capacity must be a non-negative integer'));
  const r = await k.call(coopenOp, { type, capacity });
  if (E.isLeft(r)) return r;
  const linked = await rememberEntry(k, type, r.right.entry);
  return E.map(() => r.right.port)(linked);
}

/**
 * open_named_coport: open a port and insert it as `name` in `ns`. If the insert fails the port
 * is closed again and the insert's error returned.
 */
export async function openNamedCoport(
  k: UkernThread,
  name: string,
  type: CoportTypeName,
  ns: Capability,
  options: OpenOptions = {},
): Promise<E.Either<ComsgError, { port: Capability; nsobj: Capability }>> {
  const port = await openCoport(k, type, options);
  if (E.isLeft(port)) return port;
  const entry = await coinsert(k, name, 'COPORT', port.right, ns);
  if (E.isLeft(entry)) {
    await coclose(k, port.right);
    return entry;
  }
  return E.right({ port: port.right, nsobj: entry.right });
}

/** coclose (needs CLOSE). Senders then get EPIPE; receivers drain what is left, then EPIPE. */
export async function coclose(k: UkernThread, port: Capability): Promise<E.Either<ComsgError, void>> {
  if (!Capability.is(port) || !port.tag) return E.left(sysError('EINVAL', 'coclose', 'not a coport handle'));
  const r = await k.call(cocloseOp, { port });
  return E.map(() => undefined)(r);
}

/** Close the port and delete its namespace entry (the usual end of open_named_coport). */
export async function cocloseNamed(k: UkernThread, named: { port: Capability; nsobj: Capability }, ns: Capability): Promise<E.Either<ComsgError, void>> {
  const c = await coclose(k, named.port);
  const d = await codelete(k, named.nsobj, ns);
  return E.isLeft(c) ? c : d;
}

function defaultTimeout(type: CoportTypeName, options: WaitOptions): number {
  return options.timeoutMs ?? (type === 'COPIPE' ? -1 : 0);
}

/**
 * cosend `len` bytes from `buf`. COCHANNEL: all or nothing into the ring (EWOULDBLOCK when it
 * does not fit). COPIPE: straight into a waiting receiver's buffer (waits by default).
 * COCARRIER: ipcd queues a copy (EAGAIN when the queue is full). Returns the bytes sent.
 */
export function cosend(k: UkernThread, port: Capability, buf: Capability, len: number, options: WaitOptions = {}): Promise<E.Either<ComsgError, number>> {
  return withEntry(k, port, 'cosend', (found) => sendVia(k, port, found, buf, len, options));
}

/**
 * Run `via` with the port's type and entry. Not an async function: with the type known, a
 * waiting operation is one promise (the entry's), not that promise awaited inside another —
 * on the inline runtime every layer of an await chain is paid again on every wake-up. A throw
 * (a bug) rejects, as it would in an async function.
 */
function withEntry(k: UkernThread, port: Capability, op: string, via: (found: FoundEntry) => Promise<E.Either<ComsgError, number>>): Promise<E.Either<ComsgError, number>> {
  const known = knownEntry(k, port);
  if (known === undefined) return entryOf(k, port, op).then((e) => (E.isLeft(e) ? e : via(e.right)));
  try {
    return via(known);
  } catch (e) {
    return Promise.reject(e);
  }
}

function sendVia(k: UkernThread, port: Capability, found: FoundEntry, buf: Capability, len: number, options: WaitOptions): Promise<E.Either<ComsgError, number>> {
  const { type, entry } = found;
  const timeoutMs = defaultTimeout(type, options);
  if (type === 'COCARRIER') return carrierSend(k, port, entry, buf, len, [], timeoutMs);
  // A COCHANNEL send that fits needs no wait: try it without the waiting path's promise.
  if (type === 'COCHANNEL' || timeoutMs === 0) {
    const r = sendNow(k, entry, port, buf, len);
    if (timeoutMs === 0 || !mayWait(r)) return Promise.resolve(r);
  }
  return waited(invoke(k, entry, port, { op: 'sendWait', buf, len, thread: k.thread, timeoutMs }));
}

/** A waiting request's answer: the entry's promise, or the fault CInvoke reported at once. */
function waited<T>(r: Promise<E.Either<ComsgError, T>> | SysError): Promise<E.Either<ComsgError, T>> {
  return isSysError(r) ? Promise.resolve(E.left(r)) : r;
}

/**
 * cosend without waiting, synchronously: what `cosend(..., { timeoutMs: 0 })` does, minus the
 * promise, for producers that send far more often than they wait (an `await` costs about as
 * much as a whole COCHANNEL send). COCHANNEL: EWOULDBLOCK when the bytes do not fit. COPIPE:
 * EAGAIN unless a receiver waits right now. COCARRIER sends are ipcd calls: EOPNOTSUPP.
 * EAGAIN also when this session has not met the port's type yet — the first `await cosend`
 * (or coopen) links it — so "on EAGAIN/EWOULDBLOCK, await cosend" covers every case.
 */
export function cosendSync(k: UkernThread, port: Capability, buf: Capability, len: number): E.Either<ComsgError, number> {
  const e = knownEntry(k, port);
  if (e === undefined) return unknownType(port, 'cosend');
  if (e.type === 'COCARRIER') return E.left(sysError('EOPNOTSUPP', 'cosend', 'a COCARRIER send is an ipcd call: use cosend'));
  return sendNow(k, e.entry, port, buf, len);
}

/**
 * corecv without waiting, synchronously (COCHANNEL): what is there, up to `len`; EAGAIN when
 * empty, or when this session has not met the port's type yet. COPIPE receives wait for a
 * sender and COCARRIER receives are ipcd calls: EOPNOTSUPP (use corecv).
 */
export function corecvSync(k: UkernThread, port: Capability, buf: Capability, len: number): E.Either<ComsgError, number> {
  const e = knownEntry(k, port);
  if (e === undefined) return unknownType(port, 'corecv');
  if (e.type !== 'COCHANNEL') return E.left(sysError('EOPNOTSUPP', 'corecv', `a ${e.type} receive waits or calls ipcd: use corecv`));
  return recvNow(k, e.entry, port, buf, len);
}

function sendNow(k: UkernThread, entry: Capability, port: Capability, buf: Capability, len: number): E.Either<ComsgError, number> {
  const r = invoke(k, entry, port, entriesOf(k).request('send', buf, len, k.thread));
  return isSysError(r) ? E.left(r) : r;
}

function recvNow(k: UkernThread, entry: Capability, port: Capability, buf: Capability, len: number): E.Either<ComsgError, number> {
  const r = invoke(k, entry, port, entriesOf(k).request('recv', buf, len, k.thread));
  return isSysError(r) ? E.left(r) : r;
}

/** The sync forms cannot fetch a type's entry: not a handle → EINVAL; a type not met yet → EAGAIN. */
function unknownType(port: unknown, op: string): E.Either<ComsgError, never> {
  if (!Capability.is(port) || !port.tag || !port.sealed) return E.left(sysError('EINVAL', op, 'not a coport handle'));
  return E.left(sysError('EAGAIN', op, 'this session has not linked the coport type yet: the waiting form does'));
}

/**
 * corecv into `buf` (at most `len` bytes). COCHANNEL: what is there, up to `len` (EAGAIN when
 * empty). COPIPE: publishes `buf` and waits for a sender. COCARRIER: the next message is
 * copied into `buf` and freed (EMSGSIZE, message kept queued, if it is longer than `len`).
 * Returns the bytes received.
 */
export function corecv(k: UkernThread, port: Capability, buf: Capability, len: number, options: WaitOptions = {}): Promise<E.Either<ComsgError, number>> {
  return withEntry(k, port, 'corecv', (found) => recvVia(k, port, found, buf, len, options));
}

function recvVia(k: UkernThread, port: Capability, found: FoundEntry, buf: Capability, len: number, options: WaitOptions): Promise<E.Either<ComsgError, number>> {
  const { type, entry } = found;
  const timeoutMs = defaultTimeout(type, options);
  if (type === 'COCARRIER') return carrierRecvInto(k, port, entry, buf, len, timeoutMs);
  if (type === 'COCHANNEL') {
    const r = recvNow(k, entry, port, buf, len);
    if (timeoutMs === 0 || !mayWait(r)) return Promise.resolve(r);
  }
  return waited(invoke(k, entry, port, { op: 'recvWait', buf, len, thread: k.thread, timeoutMs }));
}

/** COCARRIER corecv: receive the head message, copy it into `buf`, free it. */
async function carrierRecvInto(k: UkernThread, port: Capability, entry: Capability, buf: Capability, len: number, timeoutMs: number): Promise<E.Either<ComsgError, number>> {
  if (!Capability.is(buf) || !buf.tag || !buf.has(Perm.STORE) || !Number.isInteger(len) || len <= 0) {
    return E.left(sysError('EINVAL', 'corecv', 'need a writable buffer and a positive length'));
  }
  const msg = await carrierRecv(k, port, entry, len, timeoutMs);
  if (E.isLeft(msg)) return msg;
  const m = k.session.ctx.machine;
  const copied = m.attempt((mm) => mm.copy(buf, 0, msg.right.msg, 0, msg.right.len, true));
  const freed = await coportMsgFree(k, port, msg.right.msg);
  if (E.isLeft(copied)) return E.left(sysError('EFAULT', 'corecv', copied.left.message));
  return E.isLeft(freed) ? freed : E.right(msg.right.len);
}

export interface Attachment {
  readonly cap: Capability;
  readonly kind: AttachmentTypeName;
}

/** A received COCARRIER message: read it in place through `msg` (LOAD only), then free it. */
export interface CarrierMessage {
  readonly msg: Capability;
  readonly len: number;
  readonly attachments: readonly Attachment[];
}

/** cosend_oob: a COCARRIER message with up to four attachments (coports, reservations, coevents). */
export async function cosendOob(
  k: UkernThread,
  port: Capability,
  buf: Capability,
  len: number,
  attachments: readonly Attachment[],
  options: WaitOptions = {},
): Promise<E.Either<ComsgError, number>> {
  const e = await entryOf(k, port, 'cosend_oob');
  if (E.isLeft(e)) return e;
  if (e.right.type !== 'COCARRIER') return E.left(sysError('EOPNOTSUPP', 'cosend_oob', 'attachments travel on COCARRIER only'));
  return carrierSend(k, port, e.right.entry, buf, len, attachments, options.timeoutMs ?? 0);
}

/** corecv_oob: the next COCARRIER message, zero-copy, with its attachments. Free it when done. */
export async function corecvOob(k: UkernThread, port: Capability, options: WaitOptions & { max?: number } = {}): Promise<E.Either<ComsgError, CarrierMessage>> {
  const e = await entryOf(k, port, 'corecv_oob');
  if (E.isLeft(e)) return e;
  if (e.right.type !== 'COCARRIER') return E.left(sysError('EOPNOTSUPP', 'corecv_oob', 'attachments travel on COCARRIER only'));
  return carrierRecv(k, port, e.right.entry, options.max ?? 0, options.timeoutMs ?? 0);
}

/** coport_msg_free: give a received message back; its capability stops working. */
export async function coportMsgFree(k: UkernThread, port: Capability, msg: Capability): Promise<E.Either<ComsgError, void>> {
  if (!Capability.is(port) || !port.tag || !Capability.is(msg) || !msg.tag) return E.left(sysError('EINVAL', 'coport_msg_free', 'need a port and a message capability'));
  const r = await k.call(coportMsgFreeOp, { port, msg });
  return E.map(() => undefined)(r);
}

async function carrierSend(
  k: UkernThread,
  port: Capability,
  entry: Capability,
  buf: Capability,
  len: number,
  attachments: readonly Attachment[],
  timeoutMs: number,
): Promise<E.Either<ComsgError, number>> {
  if (!Capability.is(buf) || !buf.tag || buf.sealed || !Number.isInteger(len) || len <= 0) return E.left(sysError('EINVAL', 'cosend', 'need a readable buffer and a positive length'));
  if (!Array.isArray(attachments) || attachments.length > MAX_ATTACHMENTS) return E.left(sysError('EINVAL', 'cosend', `at most ${MAX_ATTACHMENTS} attachments`));
  const m = k.session.ctx.machine;
  // ipcd gets a read-only view bounded to the message (it can neither write our buffer nor load capabilities from it).
  const view = m.attempt((mm) => {
    const b = mm.setBoundsExact(buf, BigInt(Math.min(len, Number(buf.top - buf.address))));
    return mm.andPerm(b.tag ? b : buf, Perm.LOAD | Perm.GLOBAL);
  });
  if (E.isLeft(view)) return E.left(sysError('EINVAL', 'cosend', view.left.message));
  const registers = toAttachmentRegisters(attachments.map((a: Attachment) => ({ cap: a.cap, kind: a.kind in AttachmentType ? AttachmentType[a.kind] : -1 })));
  const args = { port, msg: view.right, len, count: attachments.length, ...registers };
  return waitingLoop(k, port, entry, PollEvent.OUT | PollEvent.CLOSED, timeoutMs, async () => E.map((v: { queued: number }) => v.queued)(await k.call(cosendOp, args)));
}

async function carrierRecv(k: UkernThread, port: Capability, entry: Capability, max: number, timeoutMs: number): Promise<E.Either<ComsgError, CarrierMessage>> {
  return waitingLoop(k, port, entry, PollEvent.IN | PollEvent.CLOSED, timeoutMs, async () => {
    const r = await k.call(corecvOp, { port, max });
    if (E.isLeft(r)) return r;
    const v = r.right;
    if (v.msg === undefined) return E.left(sysError('EDEFECT', 'corecv', 'ipcd returned no message'));
    const names = Object.keys(AttachmentType) as AttachmentTypeName[];
    const attachments: Attachment[] = [];
    for (const { cap, kind } of fromAttachmentRegisters(v, v.count)) {
      if (cap !== undefined) attachments.push({ cap, kind: names.find((n) => AttachmentType[n] === kind) ?? 'INVALID' });
    }
    return E.right({ msg: v.msg, len: v.len, attachments });
  });
}

/** Retry a COCARRIER call while it says EAGAIN, sleeping in copoll on `events` in between. */
async function waitingLoop<T>(
  k: UkernThread,
  port: Capability,
  entry: Capability,
  events: number,
  timeoutMs: number,
  attempt: () => Promise<E.Either<ComsgError, T>>,
): Promise<E.Either<ComsgError, T>> {
  const thread = k.thread;
  const due = timeoutMs < 0 ? Infinity : thread.now() + timeoutMs;
  for (;;) {
    const r = await attempt();
    if (E.isRight(r) || r.left._tag !== 'EAGAIN' || timeoutMs === 0) return r;
    const left = due === Infinity ? -1 : Math.max(0, due - thread.now());
    if (left === 0) return E.left(sysError('ETIMEDOUT', r.left.op, `no progress within ${timeoutMs} ms`));
    const p = invoke(k, entry, port, { op: 'poll', entries: [{ port, events }], thread, timeoutMs: left });
    if (isSysError(p)) return E.left(p);
    const polled = await p;
    if (E.isLeft(polled)) return polled;
  }
}

export interface PollEntry {
  readonly port: Capability;
  /** PollEvent bits wanted. */
  readonly events: number;
}

export interface PollResult {
  /** Entries with a non-empty revents. */
  readonly ready: number;
  /** requested ∩ current, per entry. */
  readonly revents: readonly number[];
}

/**
 * copoll on ports of any type: returns as soon as one entry has a requested event, or after
 * `timeoutMs` (0 = just look, negative = no limit) with `ready` = 0. Close wakes pollers.
 */
export async function copoll(k: UkernThread, entries: readonly PollEntry[], timeoutMs: number): Promise<E.Either<ComsgError, PollResult>> {
  if (!Array.isArray(entries) || entries.length === 0) return E.left(sysError('EINVAL', 'copoll', 'need at least one entry'));
  const first = await entryOf(k, entries[0]?.port, 'copoll');
  if (E.isLeft(first)) return first;
  for (const e of entries.slice(1)) {
    const ok = await entryOf(k, e?.port, 'copoll');
    if (E.isLeft(ok)) return ok;
  }
  const p = invoke(k, first.right.entry, first.right.port, { op: 'poll', entries, thread: k.thread, timeoutMs });
  if (isSysError(p)) return E.left(p);
  return E.map((revents: number[]) => ({ ready: revents.filter((r) => r !== 0).length, revents }))(await p);
}

/** Derive a handle with fewer rights (e.g. send-only for producers). Rights never grow. */
export async function corestrict(k: UkernThread, port: Capability, rights: number): Promise<E.Either<ComsgError, Capability>> {
  const e = await entryOf(k, port, 'corestrict');
  if (E.isLeft(e)) return e;
  const r = invoke(k, e.right.entry, port, { op: 'restrict', rights });
  return isSysError(r) ? E.left(r) : r;
}

/** Type, rights, state and fill level of a port (copipe_ready = COPIPE with OUT set). */
export async function coportInfo(k: UkernThread, port: Capability): Promise<E.Either<ComsgError, PortInfo>> {
  const e = await entryOf(k, port, 'coport_info');
  if (E.isLeft(e)) return e;
  const r = invoke(k, e.right.entry, port, { op: 'info' });
  return isSysError(r) ? E.left(r) : r;
}
