/**
 * The switcher as it runs inside a co-process worker (threads runtime). Switcher code, like
 * the kernel's in CheriBSD, holds the SCB region and the switcher's sealing keys; the program
 * on this worker only ever sees the CoThread calls.
 *
 * Fast cocall: claim the target's SCB (CAS on CLAIM), copy the request into the callee's
 * published inbuf with the capability-aware copy (tags kept exactly as inline), bump REQ, wait
 * for RESP with the spin-then-sleep waiter, copy the reply out of the callee's outbuf, release.
 * The callee's worker sits in `serve`, waiting on REQ. cocall_slow goes through the kernel
 * thread by postMessage (see kernel.ts).
 */
import * as E from 'fp-ts/lib/Either.js';
import { Capability } from '../capability.js';
import { Errno, errnoName, sysError, type SysError } from '../errno.js';
import type { CapMachine } from '../machine.js';
import { Perm, PermSet } from '../perms.js';
import {
  COREGISTER_NAME_MAX,
  COSETUP_COACCEPT,
  COSETUP_COCALL,
  checkBuffer,
  copyCallBuffer,
  isGeneratorFunction,
  loopInvoker,
  plainInvoker,
  type AcceptBuffers,
  type CoacceptHandler,
  type CoacceptLoop,
  type IncomingCall,
  type SwitcherPair,
} from '../switcher.js';
import type { TaggedMemory } from '../tagged-memory.js';
import { ROBUST_SLOTS } from '../robust-word.js';
import {
  CLAIM_ABANDONED,
  D_SLOW,
  O_ABANDONED_SEQ,
  O_CALLEE_SLEEPING,
  O_CALLER_SCB,
  O_CALLER_SLEEPING,
  O_CLAIM,
  O_CLAIM_WAITERS,
  O_INBUF,
  O_INLEN,
  O_MADE,
  O_ROBUST,
  ROBUST_SLOT_BYTES,
  O_MAGIC,
  O_OUTBUF,
  O_OUTLEN,
  O_OWNER_PID,
  O_OWNER_TID,
  O_REQ,
  O_REQ_LEN,
  O_RESP,
  O_RESULT,
  O_SERVED,
  O_SESSION,
  O_SLOW_INBUF,
  O_SLOW_INLEN,
  O_SLOW_OUTBUF,
  O_SLOW_OUTLEN,
  O_STATE,
  SCB_BYTES,
  SCB_MAGIC,
  ScbState,
  R_TRACE,
} from './layout.js';
import type { RpcRequest, WorkerMessage } from './protocol.js';
import type { SlowInbox } from './slow-inbox.js';
import { publish, SLICE_MS, Waiter, type WaitStats } from './spin-wait.js';
import { TraceLogWriter, type TracedCall } from './trace-log.js';

/** What the worker host hands its switcher. */
export interface ThreadSwitcherKernel {
  readonly machine: CapMachine;
  readonly memory: TaggedMemory;
  /** DATA capability over the kernel region holding the SCBs. */
  readonly kernelRegion: Capability;
  readonly entry: Capability;
  readonly pairKey: Capability;
  readonly targetKey: Capability;
  readonly runtimeWords: Int32Array;
  readonly doorbell: Int32Array;
  /** The worker's cocall_slow requests, by callee. */
  readonly slowInbox: SlowInbox;
  readonly stripTags: boolean;
  readonly callTimeoutMs: number;
  readonly self: { readonly pid: number; readonly tid: number; readonly scbBase: number };
  /** Synchronous RPC to the kernel thread, as this thread: the reply value or a typed error. */
  readonly rpc: (req: RpcRequest) => E.Either<SysError, unknown>;
  readonly post: (msg: WorkerMessage) => void;
}


/** One accept session: the call record handlers see and the loop's stop flag. */
interface Session {
  readonly call: IncomingCall;
  invoke: (call: IncomingCall) => number;
  stopped: boolean;
  /**
   * REQ as it was before the state said FAST: the serve loop waits for a change from this
   * value. Read later, a request published in between would already count as seen.
   */
  readonly reqBefore: number;
}

export class ThreadSwitcher {
  readonly #k: ThreadSwitcherKernel;
  readonly #w: Int32Array;
  readonly #targets = new WeakMap<Capability, number>();
  readonly #cookies = new Map<number, Capability>();
  readonly #bufs = new Map<number, { inbuf: Capability; outbuf: Capability; inlen: number; outlen: number; session: number }>();
  readonly #scbCap: Capability;
  #trace: TraceLogWriter | undefined;
  #callPair: SwitcherPair | undefined;
  #acceptPair: SwitcherPair | undefined;
  #target: Capability | undefined;
  #serving = false;
  readonly #waiter: Waiter;
  readonly #madeIndex: number;
  /** Word index of this thread's first robust slot in its SCB. */
  readonly #robustIndex: number;
  /** Bit per robust slot this thread holds. */
  #robustUsed = 0;

  constructor(kernel: ThreadSwitcherKernel) {
    this.#k = kernel;
    this.#w = kernel.memory.words;
    this.#scbCap = this.#scbOf(kernel.self.scbBase);
    this.#waiter = new Waiter(kernel.runtimeWords, kernel.doorbell);
    this.#madeIndex = this.#i(kernel.self.scbBase, O_MADE);
    this.#robustIndex = this.#i(kernel.self.scbBase, O_ROBUST);
  }

  /** Spin and sleep counts of this thread's waits, for tests and tools. */
  get stats(): WaitStats {
    return this.#waiter.stats;
  }

  /** One word's spinning half (see CoThreadApi.spinWhile): true when it left `seen` within the budget. */
  spinWord(index: number, seen: number): boolean {
    return this.#waiter.spin(this.#w, index, seen) !== undefined;
  }

  /** futexWait's spinning half: true when one of the words left its expected value within the budget. */
  spinWords(indices: readonly number[], expected: readonly number[]): boolean {
    return this.#waiter.spinAny(this.#w, indices, expected);
  }

  /**
   * Record a robust-word registration in this thread's SCB (addresses already checked); -1
   * when full. Plain stores: the kernel reads a thread's registrations only once its worker
   * has stopped, and the worker's exit orders every store it made before. A coport lock is
   * taken and given back per message, and sequentially consistent stores here cost more than
   * the lock itself.
   */
  robustEnter(word: number, wake: number, rollback: number): number {
    const W = this.#w;
    for (let slot = 0; slot < ROBUST_SLOTS; slot++) {
      if ((this.#robustUsed & (1 << slot)) !== 0) continue;
      this.#robustUsed |= 1 << slot;
      const at = this.#robustIndex + slot * (ROBUST_SLOT_BYTES >>> 2);
      W[at + 1] = wake;
      W[at + 2] = rollback;
      W[at] = word + 1;
      return slot;
    }
    return -1;
  }

  robustLeave(slot: number): void {
    if (slot < 0 || (this.#robustUsed & (1 << slot)) === 0) return;
    this.#w[this.#robustIndex + slot * (ROBUST_SLOT_BYTES >>> 2)] = 0;
    this.#robustUsed &= ~(1 << slot);
  }

  /** Before blocking outside the switcher (RPC, thread exit): stop counting as a spinner. */
  releaseSpinner(): void {
    this.#waiter.release();
  }

  #scbOf(base: number): Capability {
    const k = this.#k;
    return k.machine.restrict(k.kernelRegion, BigInt(base) - k.kernelRegion.base, BigInt(SCB_BYTES), PermSet.DATA | Perm.CINVOKE);
  }

  #i(base: number, offset: number): number {
    return (base + offset) >>> 2;
  }

  cosetup(what: number): E.Either<SysError, SwitcherPair> {
    if (what !== COSETUP_COCALL && what !== COSETUP_COACCEPT) {
      return E.left(sysError('EINVAL', 'cosetup', `unknown cosetup kind ${String(what)}`));
    }
    const existing = what === COSETUP_COCALL ? this.#callPair : this.#acceptPair;
    if (existing !== undefined) return E.right(existing);
    const m = this.#k.machine;
    const pair: SwitcherPair = Object.freeze({
      what,
      code: m.seal(this.#k.entry, this.#k.pairKey),
      data: m.seal(m.andPerm(this.#scbCap, Perm.LOAD | Perm.STORE | Perm.CINVOKE | Perm.GLOBAL), this.#k.pairKey),
    });
    if (what === COSETUP_COCALL) this.#callPair = pair;
    else this.#acceptPair = pair;
    return E.right(pair);
  }

  ownsPair(pair: SwitcherPair): boolean {
    return pair === this.#callPair || pair === this.#acceptPair;
  }

  #targetFor(base: number): Capability {
    const m = this.#k.machine;
    const target = m.seal(m.andPerm(this.#scbOf(base), Perm.GLOBAL), this.#k.targetKey);
    this.#targets.set(target, base);
    return target;
  }

  coregister(name?: string): E.Either<SysError, Capability> {
    if (name !== undefined) {
      if (typeof name !== 'string' || name.length === 0) return E.left(sysError('EINVAL', 'coregister', 'empty name'));
      if (name.length >= COREGISTER_NAME_MAX) return E.left(sysError('ENAMETOOLONG', 'coregister', 'name too long'));
      const r = this.#k.rpc({ op: 'coregister', name });
      if (E.isLeft(r)) return r;
    }
    this.#target ??= this.#targetFor(this.#k.self.scbBase);
    return E.right(this.#target);
  }

  colookup(name: string): E.Either<SysError, Capability> {
    if (typeof name !== 'string' || name.length === 0) return E.left(sysError('EINVAL', 'colookup', 'empty name'));
    if (name.length >= COREGISTER_NAME_MAX) return E.left(sysError('ENAMETOOLONG', 'colookup', 'name too long'));
    const r = this.#k.rpc({ op: 'colookup', name });
    if (E.isLeft(r)) return r;
    return E.right(this.#targetFor(r.right as number));
  }

  /** Target → SCB base: by identity, else the faithful tag/otype check and CUnseal. */
  #resolve(target: unknown, op: string): number | SysError {
    if (typeof target === 'object' && target !== null) {
      const hit = this.#targets.get(target as Capability);
      if (hit !== undefined) return hit;
    }
    if (!Capability.is(target) || !target.tag) return sysError('EINVAL', op, 'target is not a tagged capability');
    if (target.otype !== Number(this.#k.targetKey.address)) return sysError('EINVAL', op, 'target is not a switcher target');
    const opened = this.#k.machine.unseal(target, this.#k.targetKey);
    const base = opened.addressNumber;
    if (!opened.tag || !this.#isScb(base)) return sysError('EINVAL', op, 'target names no thread');
    this.#targets.set(target, base);
    return base;
  }

  #isScb(base: number): boolean {
    const r = this.#k.kernelRegion;
    const lo = Number(r.base);
    const hi = Number(r.top);
    return base >= lo && base + SCB_BYTES <= hi && (base & 15) === 0 && Atomics.load(this.#w, this.#i(base, O_MAGIC)) === SCB_MAGIC;
  }

  #stateError(state: number, op: string, slow: boolean): SysError | undefined {
    switch (state) {
      case ScbState.FAST:
        return slow ? sysError('EPROTOTYPE', op, 'callee accepts fast calls') : undefined;
      case ScbState.SLOW:
        return slow ? undefined : sysError('EPROTOTYPE', op, 'callee accepts slow calls');
      case ScbState.GONE:
        return sysError('ENOLINK', op, 'callee thread has exited');
      default:
        return sysError('EAGAIN', op, 'callee is not in coaccept');
    }
  }

  /** The callee's published buffers, cached per accept session. */
  #calleeBuffers(base: number): { inbuf: Capability; outbuf: Capability; inlen: number; outlen: number } {
    const session = Atomics.load(this.#w, this.#i(base, O_SESSION));
    const hit = this.#bufs.get(base);
    if (hit !== undefined && hit.session === session) return hit;
    const m = this.#k.machine;
    const scb = this.#scbOf(base);
    const fresh = {
      inbuf: m.loadCap(scb, O_INBUF),
      outbuf: m.loadCap(scb, O_OUTBUF),
      inlen: Atomics.load(this.#w, this.#i(base, O_INLEN)),
      outlen: Atomics.load(this.#w, this.#i(base, O_OUTLEN)),
      session,
    };
    this.#bufs.set(base, fresh);
    return fresh;
  }

  /** The checks both call paths make before anything moves: the callee's SCB base, or why not. */
  #checkCall(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number, op: string, slow: boolean): number | SysError {
    if (this.#callPair === undefined) return sysError('EINVAL', op, 'no cosetup(COSETUP_COCALL) on this thread');
    const base = this.#resolve(target, op);
    if (typeof base !== 'number') return base;
    if (base === this.#k.self.scbBase) return sysError('EDEADLK', op, 'a thread cannot call itself');
    return (
      this.#stateError(Atomics.load(this.#w, this.#i(base, O_STATE)), op, slow) ??
      checkBuffer(outbuf, outlen, Perm.LOAD, op, 'outbuf') ??
      checkBuffer(inbuf, inlen, Perm.STORE, op, 'inbuf') ??
      base
    );
  }

  cocall(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    // One plain read when not tracing (the host sets the word rarely; a late sight costs one call's record).
    if (this.#k.runtimeWords[R_TRACE] !== 0) return this.#traced(target, outbuf, outlen, inbuf, inlen, false);
    return this.#cocall(target, outbuf, outlen, inbuf, inlen);
  }

  /** Both call paths under the host's trace: an enter record, the call, an exit record. */
  #traced(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number, slow: boolean): E.Either<SysError, number> {
    const k = this.#k;
    const base = k.runtimeWords[R_TRACE]!;
    if (this.#trace?.base !== base) this.#trace = new TraceLogWriter(k.machine, k.memory, k.kernelRegion, base);
    const callee = this.#resolve(target, 'trace');
    const W = this.#w;
    const call: TracedCall = {
      slow,
      callerPid: k.self.pid,
      callerTid: k.self.tid,
      calleePid: typeof callee === 'number' ? Atomics.load(W, this.#i(callee, O_OWNER_PID)) : -1,
      calleeTid: typeof callee === 'number' ? Atomics.load(W, this.#i(callee, O_OWNER_TID)) : -1,
      outbuf,
      outlen,
      inbuf,
      inlen,
    };
    const id = this.#trace.enter(call);
    const r = slow ? this.#cocallSlow(target, outbuf, outlen, inbuf, inlen) : this.#cocall(target, outbuf, outlen, inbuf, inlen);
    this.#trace.exit(id, call, r);
    return r;
  }

  #cocall(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    const op = 'cocall';
    const base = this.#checkCall(target, outbuf, outlen, inbuf, inlen, op, false);
    if (typeof base !== 'number') return E.left(base);
    const W = this.#w;
    const iState = this.#i(base, O_STATE);
    const claimed = this.#claim(base, op, false);
    if (claimed !== undefined) return E.left(claimed);
    // The claim is ours: the callee cannot change buffers under us until we release it.
    const after = this.#stateError(Atomics.load(W, iState), op, false);
    if (after !== undefined) return this.#release(base, after);
    const callee = this.#calleeBuffers(base);
    const n = Math.min(outlen, callee.inlen);
    if (!this.#copy(callee.inbuf, callee.inbuf.addressNumber, outbuf, n)) {
      return this.#release(base, sysError('EFAULT', op, 'capability in outbuf cannot be stored into the callee buffer'));
    }
    const iResp = this.#i(base, O_RESP);
    const before = Atomics.load(W, iResp);
    // Plain writes: the Atomics.store of REQ below publishes them (SC store → load ordering).
    W[this.#i(base, O_REQ_LEN)] = n;
    W[this.#i(base, O_CALLER_SCB)] = this.#k.self.scbBase;
    const seq = (Atomics.load(W, this.#i(base, O_REQ)) + 1) | 0;
    publish(W, this.#i(base, O_REQ), seq, this.#i(base, O_CALLEE_SLEEPING));
    const got = this.#waiter.waitForChange(W, iResp, before, this.#i(base, O_CALLER_SLEEPING), this.#k.callTimeoutMs, () => Atomics.load(W, iState) === ScbState.GONE);
    if (got !== seq) return this.#abandon(base, seq, op);
    const result = W[this.#i(base, O_RESULT)]!;
    if (result < 0) return this.#release(base, sysError(errnoName(-result) ?? 'ENOLINK', op, 'callee failed the call'));
    const m = Math.min(result, inlen, callee.outlen);
    if (m > 0 && !this.#copy(inbuf, inbuf.addressNumber, callee.outbuf, m)) {
      return this.#release(base, sysError('EFAULT', op, 'capability in reply cannot be stored into inbuf'));
    }
    W[this.#madeIndex] = W[this.#madeIndex]! + 1; // single writer: no locked add on the hot path
    this.#release(base, undefined);
    return E.right(m);
  }

  /** CAS the callee's CLAIM from free to our tid, waiting (bounded) while another caller holds it. */
  #claim(base: number, op: string, slow: boolean): SysError | undefined {
    const W = this.#w;
    const iClaim = this.#i(base, O_CLAIM);
    const iWaiters = this.#i(base, O_CLAIM_WAITERS);
    const tid = this.#k.self.tid;
    let deadline = Infinity;
    for (;;) {
      const cur = Atomics.compareExchange(W, iClaim, 0, tid);
      if (cur === 0) return undefined;
      if (deadline === Infinity) deadline = performance.now() + this.#k.callTimeoutMs;
      const err = this.#stateError(Atomics.load(W, this.#i(base, O_STATE)), op, slow);
      if (err !== undefined) return err;
      const left = deadline - performance.now();
      if (left <= 0) return sysError('ETIMEDOUT', op, 'callee stayed busy with other callers');
      Atomics.add(W, iWaiters, 1);
      if (Atomics.load(W, iClaim) === cur) Atomics.wait(W, iClaim, cur, Math.min(SLICE_MS, left));
      Atomics.sub(W, iWaiters, 1);
    }
  }

  #release<T>(base: number, err: SysError | undefined): E.Either<SysError, T> {
    releaseClaim(this.#w, base);
    return err === undefined ? (E.right(undefined) as E.Either<SysError, T>) : E.left(err);
  }

  /**
   * The call did not complete in time (or the callee died). Mark the claim abandoned so the
   * callee frees it when it finishes; if it finished meanwhile, free it ourselves.
   */
  #abandon(base: number, seq: number, op: string): E.Either<SysError, number> {
    const W = this.#w;
    const gone = Atomics.load(W, this.#i(base, O_STATE)) === ScbState.GONE;
    const err = gone ? sysError('ENOLINK', op, 'callee thread has exited') : sysError('ETIMEDOUT', op, `no reply within ${this.#k.callTimeoutMs} ms`);
    const iClaim = this.#i(base, O_CLAIM);
    if (Atomics.compareExchange(W, iClaim, this.#k.self.tid, CLAIM_ABANDONED) !== this.#k.self.tid) return E.left(err);
    Atomics.store(W, this.#i(base, O_ABANDONED_SEQ), seq);
    if (gone || Atomics.load(W, this.#i(base, O_RESP)) === seq) {
      if (Atomics.compareExchange(W, iClaim, CLAIM_ABANDONED, 0) === CLAIM_ABANDONED) wakeClaimWaiters(W, base);
    }
    return E.left(err);
  }

  #copy(dst: Capability, dstAddr: number, src: Capability, n: number): boolean {
    return copyCallBuffer(this.#k.memory, dst, dstAddr, src, n, this.#k.stripTags);
  }

  cocallSlow(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    if (this.#k.runtimeWords[R_TRACE] !== 0) return this.#traced(target, outbuf, outlen, inbuf, inlen, true);
    return this.#cocallSlow(target, outbuf, outlen, inbuf, inlen);
  }

  #cocallSlow(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    const op = 'cocall_slow';
    const base = this.#checkCall(target, outbuf, outlen, inbuf, inlen, op, true);
    if (typeof base !== 'number') return E.left(base);
    // Hand the kernel our buffers through our own SCB, then ask it to route the call.
    const m = this.#k.machine;
    m.storeCap(this.#scbCap, O_SLOW_OUTBUF, outbuf);
    m.storeCap(this.#scbCap, O_SLOW_INBUF, inbuf);
    const self = this.#k.self.scbBase;
    Atomics.store(this.#w, this.#i(self, O_SLOW_OUTLEN), outlen);
    Atomics.store(this.#w, this.#i(self, O_SLOW_INLEN), inlen);
    const r = this.#k.rpc({ op: 'cocall_slow', target: base });
    if (E.isLeft(r)) return r;
    this.#w[this.#madeIndex] = this.#w[this.#madeIndex]! + 1;
    return E.right(r.right as number);
  }

  cogetpid(cookie: Capability): E.Either<SysError, number> {
    if (!Capability.is(cookie)) return E.left(sysError('EINVAL', 'cogetpid', 'cookie is not a capability'));
    const base = cookie.addressNumber;
    if (cookie.tag || !this.#isScb(base)) return E.left(sysError('ESRCH', 'cogetpid', 'cookie names no caller'));
    return E.right(Atomics.load(this.#w, this.#i(base, O_OWNER_PID)));
  }

  #cookieFor(base: number): Capability {
    let c = this.#cookies.get(base);
    if (c === undefined) {
      c = this.#k.machine.clearTag(this.#scbOf(base));
      this.#cookies.set(base, c);
    }
    return c;
  }

  /**
   * Publish the accept buffers and enter coaccept: what both serving forms share. Returns the
   * call record and how to run and stop the session, or why it cannot start.
   */
  #open(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers, slow: boolean): E.Either<SysError, Session> {
    const op = slow ? 'coaccept_slow' : 'coaccept';
    if (this.#acceptPair === undefined) return E.left(sysError('EINVAL', op, 'no cosetup(COSETUP_COACCEPT) on this thread'));
    if (this.#serving) return E.left(sysError('EBUSY', op, 'thread is already in coaccept'));
    const inlen = buffers.inlen ?? Number(buffers.inbuf.length);
    const outlen = buffers.outlen ?? Number(buffers.outbuf.length);
    const bufErr = checkBuffer(buffers.inbuf, inlen, Perm.STORE, op, 'inbuf') ?? checkBuffer(buffers.outbuf, outlen, Perm.LOAD, op, 'outbuf');
    if (bufErr !== undefined) return E.left(bufErr);
    const base = this.#k.self.scbBase;
    const W = this.#w;
    const m = this.#k.machine;
    // Publish the buffers, then the state: a caller that sees FAST/SLOW sees these too.
    m.storeCap(this.#scbCap, O_INBUF, buffers.inbuf);
    m.storeCap(this.#scbCap, O_OUTBUF, buffers.outbuf);
    Atomics.store(W, this.#i(base, O_INLEN), inlen);
    Atomics.store(W, this.#i(base, O_OUTLEN), outlen);
    Atomics.add(W, this.#i(base, O_SESSION), 1);
    const session: Session = {
      call: { cookie: this.#cookieFor(base), length: 0, inbuf: buffers.inbuf, inlen, outbuf: buffers.outbuf, outlen, slow },
      invoke: plainInvoker(() => 0),
      stopped: false,
      reqBefore: Atomics.load(W, this.#i(base, O_REQ)),
    };
    session.invoke = isGeneratorFunction(handler) ? loopInvoker(handler, () => (session.stopped = true)) : plainInvoker(handler);
    this.#serving = true;
    Atomics.store(W, this.#i(base, O_STATE), slow ? ScbState.SLOW : ScbState.FAST);
    Atomics.notify(W, this.#i(base, O_STATE));
    this.#parked(true);
    return E.right(session);
  }

  #close(): void {
    const base = this.#k.self.scbBase;
    const W = this.#w;
    this.#serving = false;
    this.#waiter.release();
    if (Atomics.load(W, this.#i(base, O_STATE)) !== ScbState.GONE) {
      Atomics.store(W, this.#i(base, O_STATE), ScbState.NOT_ACCEPTING);
      Atomics.notify(W, this.#i(base, O_STATE));
    }
    this.#parked(false);
  }

  #parked(parked: boolean): void {
    this.#k.post({ t: 'parked', tid: this.#k.self.tid, parked });
  }

  /** Park outside coaccept (a service's main thread waiting while its handlers serve). */
  async park(until: Promise<unknown>): Promise<void> {
    this.#waiter.release();
    this.#parked(true);
    try {
      await until;
    } catch {
      // A rejected wait ends the park all the same.
    } finally {
      this.#parked(false);
    }
  }

  /**
   * coaccept on this worker: publish the buffers and serve calls on this thread until the
   * loop-form handler returns or the thread is told to stop. Blocks the worker (it is the
   * callee's thread; nothing else runs on it while it serves).
   */
  serve(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers, slow: boolean): E.Either<SysError, void> {
    const opened = this.#open(handler, buffers, slow);
    if (E.isLeft(opened)) return opened;
    const session = opened.right;
    try {
      if (slow) this.#serveSlow(session.invoke, session.call, () => session.stopped);
      else this.#serveFast(session);
    } finally {
      this.#close();
    }
    return E.right(undefined);
  }

  /**
   * Serve without blocking the worker: spin for the budget after each call, then sleep with
   * Atomics.waitAsync, so the worker's other threads and promises run between calls (a
   * daemon's pool, a supervisor waiting for exits). Returns at once.
   */
  startAccepting(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers, slow: boolean): E.Either<SysError, { stopped: Promise<void>; stop: () => void }> {
    const opened = this.#open(handler, buffers, slow);
    if (E.isLeft(opened)) return opened;
    const session = opened.right;
    const base = this.#k.self.scbBase;
    const stop = (): void => {
      session.stopped = true;
      // Wake the sleeping loop so it sees the flag.
      Atomics.notify(this.#w, this.#i(base, O_REQ));
      Atomics.add(this.#k.doorbell, D_SLOW, 1);
      Atomics.notify(this.#k.doorbell, D_SLOW);
    };
    const loop = slow ? this.#serveSlowAsync(session) : this.#serveFastAsync(session);
    const stopped = loop.finally(() => this.#close());
    return E.right({ stopped, stop });
  }

  async #serveFastAsync(session: Session): Promise<void> {
    const base = this.#k.self.scbBase;
    const W = this.#w;
    const iReq = this.#i(base, O_REQ);
    const iState = this.#i(base, O_STATE);
    const iSleep = this.#i(base, O_CALLEE_SLEEPING);
    let seen = session.reqBefore;
    for (;;) {
      let seq = this.#waiter.spin(W, iReq, seen);
      while (seq === undefined) {
        if (session.stopped || Atomics.load(W, iState) === ScbState.GONE) return;
        Atomics.store(W, iSleep, 1);
        if (Atomics.load(W, iReq) === seen) {
          this.#waiter.slept();
          const r = Atomics.waitAsync(W, iReq, seen, SLICE_MS);
          if (r.async) await r.value;
        }
        Atomics.store(W, iSleep, 0);
        const v = Atomics.load(W, iReq);
        if (v !== seen) seq = v;
      }
      seen = seq;
      this.#handleFast(session.invoke, session.call, seq);
      if (session.stopped) return;
    }
  }

  async #serveSlowAsync(session: Session): Promise<void> {
    const base = this.#k.self.scbBase;
    const W = this.#w;
    const bell = this.#k.doorbell;
    const iState = this.#i(base, O_STATE);
    for (;;) {
      if (session.stopped || Atomics.load(W, iState) === ScbState.GONE) return;
      const seen = Atomics.load(bell, D_SLOW);
      const req = this.#k.slowInbox.take(base);
      if (req === undefined) {
        const r = Atomics.waitAsync(bell, D_SLOW, seen, SLICE_MS);
        if (r.async) await r.value;
        continue;
      }
      this.#handleSlow(session.invoke, session.call, req.length, req.caller);
      if (session.stopped) return;
    }
  }

  /** Run one fast call whose request `seq` has arrived, and answer it. */
  #handleFast(invoke: (call: IncomingCall) => number, call: IncomingCall, seq: number): void {
    const base = this.#k.self.scbBase;
    const W = this.#w;
    call.length = W[this.#i(base, O_REQ_LEN)]!;
    call.cookie = this.#cookieFor(W[this.#i(base, O_CALLER_SCB)]!);
    let reply: number;
    try {
      reply = invoke(call);
    } catch (e) {
      this.#answer(base, seq, -Errno.ENOLINK);
      Atomics.store(W, this.#i(base, O_STATE), ScbState.GONE);
      Atomics.notify(W, this.#i(base, O_STATE));
      throw e;
    }
    W[this.#i(base, O_SERVED)] = W[this.#i(base, O_SERVED)]! + 1;
    this.#answer(base, seq, Math.min(reply, call.outlen));
  }

  /** Run one slow call and send its reply through the kernel. */
  #handleSlow(invoke: (call: IncomingCall) => number, call: IncomingCall, length: number, caller: number): void {
    const base = this.#k.self.scbBase;
    const W = this.#w;
    call.length = length;
    call.cookie = this.#cookieFor(caller);
    let reply: number;
    try {
      reply = invoke(call);
    } catch (e) {
      this.#k.post({ t: 'slow-reply', callee: base, result: -Errno.ENOLINK });
      throw e;
    }
    W[this.#i(base, O_SERVED)] = W[this.#i(base, O_SERVED)]! + 1;
    this.#k.post({ t: 'slow-reply', callee: base, result: Math.min(reply, call.outlen) });
  }

  #serveFast(session: Session): void {
    const base = this.#k.self.scbBase;
    const W = this.#w;
    const iReq = this.#i(base, O_REQ);
    const iState = this.#i(base, O_STATE);
    let seen = session.reqBefore;
    for (;;) {
      const seq = this.#waiter.waitForChange(W, iReq, seen, this.#i(base, O_CALLEE_SLEEPING), Infinity, () => Atomics.load(W, iState) === ScbState.GONE);
      if (seq === undefined) return;
      seen = seq;
      this.#handleFast(session.invoke, session.call, seq);
      if (session.stopped) return;
    }
  }

  #answer(base: number, seq: number, result: number): void {
    const W = this.#w;
    W[this.#i(base, O_RESULT)] = result; // published by the RESP store
    publish(W, this.#i(base, O_RESP), seq, this.#i(base, O_CALLER_SLEEPING));
    // A caller that gave up on this call left the claim to us. The check reads the request
    // line we just read anyway; touching CLAIM every call would bounce its line.
    if (Atomics.load(W, this.#i(base, O_ABANDONED_SEQ)) === seq) {
      if (Atomics.compareExchange(W, this.#i(base, O_CLAIM), CLAIM_ABANDONED, 0) === CLAIM_ABANDONED) wakeClaimWaiters(W, base);
    }
  }

  #serveSlow(invoke: (call: IncomingCall) => number, call: IncomingCall, stopped: () => boolean): void {
    const base = this.#k.self.scbBase;
    const W = this.#w;
    const bell = this.#k.doorbell;
    const iState = this.#i(base, O_STATE);
    for (;;) {
      const seen = Atomics.load(bell, D_SLOW);
      const req = this.#k.slowInbox.take(base);
      if (req === undefined) {
        if (Atomics.load(W, iState) === ScbState.GONE) return;
        Atomics.wait(bell, D_SLOW, seen, SLICE_MS);
        continue;
      }
      this.#handleSlow(invoke, call, req.length, req.caller);
      if (stopped()) return;
    }
  }

  /** Wait (without blocking the worker's event loop) until `target` accepts. */
  async waitAvailable(target: Capability, timeoutMs: number): Promise<E.Either<SysError, void>> {
    const base = this.#resolve(target, 'cocall');
    if (typeof base !== 'number') return E.left(base);
    const W = this.#w;
    const iState = this.#i(base, O_STATE);
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const s = Atomics.load(W, iState);
      if (s === ScbState.FAST || s === ScbState.SLOW) return E.right(undefined);
      if (s === ScbState.GONE) return E.left(sysError('ENOLINK', 'cocall', 'callee thread has exited'));
      const left = deadline - performance.now();
      if (left <= 0) return E.left(sysError('ETIMEDOUT', 'cocall', 'callee did not enter coaccept in time'));
      const r = Atomics.waitAsync(W, iState, s, Math.min(left, 100));
      if (r.async) await r.value;
    }
  }
}

export function wakeClaimWaiters(W: Int32Array, base: number): void {
  if (Atomics.load(W, (base + O_CLAIM_WAITERS) >>> 2) > 0) Atomics.notify(W, (base + O_CLAIM) >>> 2);
}

export function releaseClaim(W: Int32Array, base: number): void {
  Atomics.store(W, (base + O_CLAIM) >>> 2, 0);
  wakeClaimWaiters(W, base);
}

