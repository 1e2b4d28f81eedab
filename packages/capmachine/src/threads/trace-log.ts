/**
 * The threads runtime's cocall trace. Inline, the tracer sits in the one switcher and sees
 * every call on its own stack; on threads each worker's switcher makes its calls straight
 * into another worker's mailbox, so each appends enter/exit records to a shared log in
 * kernel memory and the host thread drains them in order and hands them to the tracer — the
 * same `CocallTracer` interface, with the buffers replaced by snapshots taken at the call.
 *
 * Snapshots are copied with their tags (an argument block's capabilities decode as they
 * would inline) into the record's own memory, so the record stays readable after the
 * caller has reused its buffers. The log is a ring of fixed slots; a producer reserves a
 * position only when its slot is free, so a reserved position is always written.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Capability } from '../capability.js';
import { errnoName, sysError, type SysError } from '../errno.js';
import type { CapMachine } from '../machine.js';
import { Perm } from '../perms.js';
import type { CocallTraceEnter, CocallTracer } from '../switcher.js';
import type { TaggedMemory } from '../tagged-memory.js';
import { copyCallBuffer } from '../switcher.js';

export const TRACE_SLOTS = 64;
/** Bytes of each buffer kept: a whole microkernel argument block (256) and a capv answerback. */
export const TRACE_SNAP = 320;
const LOG_HEAD = 64;
const SLOT_HEAD = 64;
const SLOT_BYTES = SLOT_HEAD + 2 * TRACE_SNAP;
export const TRACE_LOG_BYTES = LOG_HEAD + TRACE_SLOTS * SLOT_BYTES;

/** Log header words (byte offsets). */
const L_NEXT = 0;
const L_READ = 4;
const L_CALLS = 8;
const L_LOST = 12;

/** Slot header words. COMMIT holds position + 1 once the record is complete. */
const S_COMMIT = 0;
const S_PHASE = 4;
const S_SLOW = 8;
const S_CALL = 12;
const S_CALLER_PID = 16;
const S_CALLER_TID = 20;
const S_CALLEE_PID = 24;
const S_CALLEE_TID = 28;
const S_OUTLEN = 32;
const S_INLEN = 36;
const S_RESULT = 40;

const PHASE_ENTER = 1;
const PHASE_EXIT = 2;

/** How long a producer waits for the host to free a slot before it counts the record lost. */
const PRODUCER_WAIT_MS = 1000;
/** A reserved position still unwritten after this long belongs to a worker that died writing it. */
const STALL_MS = 1000;

export interface TracedCall {
  readonly slow: boolean;
  readonly callerPid: number;
  readonly callerTid: number;
  /** −1 when the target names no thread. */
  readonly calleePid: number;
  readonly calleeTid: number;
  readonly outbuf: Capability;
  readonly outlen: number;
  readonly inbuf: Capability;
  readonly inlen: number;
}

const i32 = (base: number, offset: number): number => (base + offset) >>> 2;

/** The log's slots, each bounded to its own record (`region` holds the log at `base`). */
function slotsOf(m: CapMachine, region: Capability, base: number): Capability[] {
  return Array.from({ length: TRACE_SLOTS }, (_, s) => m.restrict(region, BigInt(base + LOG_HEAD + s * SLOT_BYTES) - region.base, BigInt(SLOT_BYTES)));
}

/** A worker's side: append records. `region` is a DATA capability over kernel memory holding the log. */
export class TraceLogWriter {
  readonly #mem: TaggedMemory;
  readonly #w: Int32Array;
  readonly #base: number;
  readonly #slots: Capability[];

  constructor(m: CapMachine, mem: TaggedMemory, region: Capability, base: number) {
    this.#mem = mem;
    this.#w = mem.words;
    this.#base = base;
    this.#slots = slotsOf(m, region, base);
  }

  get base(): number {
    return this.#base;
  }

  /** Record a call's entry; returns its call id (0 if the record was lost). */
  enter(c: TracedCall): number {
    const id = Atomics.add(this.#w, i32(this.#base, L_CALLS), 1) + 1;
    this.#append(PHASE_ENTER, id, c, 0, false);
    return id;
  }

  exit(id: number, c: TracedCall, result: E.Either<SysError, number>): void {
    this.#append(PHASE_EXIT, id, c, E.isRight(result) ? result.right : -result.left.errno, true);
  }

  #append(phase: number, id: number, c: TracedCall, result: number, reply: boolean): void {
    const pos = this.#reserve();
    if (pos < 0) return;
    const W = this.#w;
    const slot = this.#slots[pos % TRACE_SLOTS]!;
    const at = slot.addressNumber;
    W[i32(at, S_PHASE)] = phase;
    W[i32(at, S_SLOW)] = c.slow ? 1 : 0;
    W[i32(at, S_CALL)] = id;
    W[i32(at, S_CALLER_PID)] = c.callerPid;
    W[i32(at, S_CALLER_TID)] = c.callerTid;
    W[i32(at, S_CALLEE_PID)] = c.calleePid;
    W[i32(at, S_CALLEE_TID)] = c.calleeTid;
    W[i32(at, S_OUTLEN)] = c.outlen;
    W[i32(at, S_INLEN)] = c.inlen;
    W[i32(at, S_RESULT)] = result;
    this.#snapshot(slot, at + SLOT_HEAD, c.outbuf, c.outlen);
    if (reply) this.#snapshot(slot, at + SLOT_HEAD + TRACE_SNAP, c.inbuf, Math.max(0, Math.min(result, c.inlen)));
    Atomics.store(W, i32(at, S_COMMIT), pos + 1);
  }

  /** The caller's buffer as it is now (tags kept where the copy may keep them; else bytes only). */
  #snapshot(slot: Capability, dst: number, buf: Capability, len: number): void {
    const n = Math.min(len, TRACE_SNAP);
    this.#mem.fill(dst, TRACE_SNAP, 0);
    // What a checked load of the buffer would allow (tag, unsealed, LOAD, in bounds); else no snapshot.
    if (n <= 0 || Capability.accessCheck(buf, 0, n, Perm.LOAD) < 0) return;
    if (!copyCallBuffer(this.#mem, slot, dst, buf, n, false)) copyCallBuffer(this.#mem, slot, dst, buf, n, true);
  }

  /** A free position (its slot drained), or −1 after waiting PRODUCER_WAIT_MS (counted lost). */
  #reserve(): number {
    const W = this.#w;
    const iNext = i32(this.#base, L_NEXT);
    const iRead = i32(this.#base, L_READ);
    let due = 0;
    for (;;) {
      const next = Atomics.load(W, iNext);
      const read = Atomics.load(W, iRead);
      if (next - read < TRACE_SLOTS) {
        if (Atomics.compareExchange(W, iNext, next, next + 1) === next) return next;
        continue;
      }
      const now = performance.now();
      if (due === 0) due = now + PRODUCER_WAIT_MS;
      if (now >= due) {
        Atomics.add(W, i32(this.#base, L_LOST), 1);
        return -1;
      }
      Atomics.wait(W, iRead, read, Math.min(10, due - now));
    }
  }
}

/** The host's side: deliver committed records, in order, to a tracer. */
export class TraceLogReader {
  readonly #m: CapMachine;
  readonly #w: Int32Array;
  readonly #base: number;
  readonly #slots: Capability[];
  #stalledAt = -1;
  #stalledSince = 0;
  #lostSeen = 0;

  constructor(m: CapMachine, mem: TaggedMemory, region: Capability, base: number) {
    this.#m = m;
    this.#w = mem.words;
    this.#base = base;
    this.#slots = slotsOf(m, region, base).map((s) => m.andPerm(s, Perm.LOAD | Perm.LOAD_CAP | Perm.GLOBAL));
  }

  get base(): number {
    return this.#base;
  }

  /** Records producers gave up on (the ring stayed full), or positions skipped after a writer died. */
  get lost(): number {
    return Atomics.load(this.#w, i32(this.#base, L_LOST));
  }

  /** Hand every committed record to `tracer`; returns how many were delivered. */
  drain(tracer: CocallTracer, onLost?: (n: number) => void): number {
    const W = this.#w;
    const iRead = i32(this.#base, L_READ);
    let delivered = 0;
    for (;;) {
      const pos = Atomics.load(W, iRead);
      if (pos === Atomics.load(W, i32(this.#base, L_NEXT))) break;
      const slot = this.#slots[pos % TRACE_SLOTS]!;
      const at = slot.addressNumber;
      if (Atomics.load(W, i32(at, S_COMMIT)) !== pos + 1) {
        if (!this.#givenUp(pos)) break;
        Atomics.add(W, i32(this.#base, L_LOST), 1);
      } else {
        this.#deliver(tracer, slot, at);
        delivered++;
      }
      Atomics.store(W, iRead, pos + 1);
      Atomics.notify(W, iRead);
    }
    const lost = this.lost;
    if (lost > this.#lostSeen) {
      onLost?.(lost - this.#lostSeen);
      this.#lostSeen = lost;
    }
    return delivered;
  }

  /** A reserved position not written for STALL_MS: its writer died mid-record. */
  #givenUp(pos: number): boolean {
    const now = performance.now();
    if (this.#stalledAt !== pos) {
      this.#stalledAt = pos;
      this.#stalledSince = now;
      return false;
    }
    return now - this.#stalledSince >= STALL_MS;
  }

  #deliver(tracer: CocallTracer, slot: Capability, at: number): void {
    const W = this.#w;
    const m = this.#m;
    const id = W[i32(at, S_CALL)]!;
    const calleePid = W[i32(at, S_CALLEE_PID)]!;
    const call: CocallTraceEnter = {
      seq: id,
      slow: W[i32(at, S_SLOW)] === 1,
      caller: { pid: W[i32(at, S_CALLER_PID)]!, tid: W[i32(at, S_CALLER_TID)]! },
      callee: calleePid < 0 ? undefined : { pid: calleePid, tid: W[i32(at, S_CALLEE_TID)]!, name: undefined },
      outbuf: m.restrict(slot, BigInt(SLOT_HEAD), BigInt(TRACE_SNAP)),
      outlen: W[i32(at, S_OUTLEN)]!,
      inbuf: m.restrict(slot, BigInt(SLOT_HEAD + TRACE_SNAP), BigInt(TRACE_SNAP)),
      inlen: W[i32(at, S_INLEN)]!,
    };
    if (W[i32(at, S_PHASE)] === PHASE_ENTER) {
      tracer.enter(call);
      return;
    }
    const r = W[i32(at, S_RESULT)]!;
    tracer.exit(call, r >= 0 ? E.right(r) : E.left(sysError(errnoName(-r) ?? 'EDEFECT', call.slow ? 'cocall_slow' : 'cocall', 'call failed')));
  }
}
