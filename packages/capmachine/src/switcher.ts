/**
 * The co-process switcher: cosetup, coregister/colookup, cocall/coaccept (fast and slow),
 * cogetpid — CheriBSD's colocation layer (spec §5.2–§5.3) for the inline runtime.
 *
 * Each thread gets a switcher control block (SCB) in kernel memory. `cosetup` hands the thread
 * a sealed (code, data) pair that only CInvoke can open; `coregister` hands out the SCB sealed
 * with the target otype. A cocall unseals the target, claims the callee, copies the caller's
 * buffer into the callee's, runs the callee's accept handler *on the caller's stack* (thread
 * borrowing), and copies the reply back. Capabilities inside buffers keep their tags unless the
 * address space was created with `stripTags` (the older semantics).
 *
 * Hot-path note: targets and pairs minted here are recognised by object identity (WeakMap) so
 * the common call does no bigint work; a target rebuilt from memory takes the faithful path
 * (tag/otype check + CUnseal) once and is then cached.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Capability } from './capability.js';
import { copyBytes } from './access.js';
import { sysError, type SysError } from './errno.js';
import { CapabilityFault } from './fault.js';
import type { CapMachine } from './machine.js';
import { Perm } from './perms.js';
import { WaitQueue, type Scheduler, type Task } from './scheduler.js';
import type { TaggedMemory } from './tagged-memory.js';

export const COSETUP_COCALL = 0;
export const COSETUP_COACCEPT = 1;
export type CosetupWhat = typeof COSETUP_COCALL | typeof COSETUP_COACCEPT;

/** PATH_MAX: names this long or longer are refused. */
export const COREGISTER_NAME_MAX = 1024;

/** The sealed (code, data) pair cosetup returns; usable only by the thread it was made for. */
export interface SwitcherPair {
  readonly what: CosetupWhat;
  readonly code: Capability;
  readonly data: Capability;
}

/**
 * One incoming call as the callee sees it. The object is reused for every call to the same
 * thread (no allocation per call): read what you need before returning.
 */
export interface IncomingCall {
  /** Opaque caller identity (untagged caller SCB); give it to `cogetpid`. */
  cookie: Capability;
  /** Bytes copied into `inbuf`. */
  length: number;
  readonly inbuf: Capability;
  readonly inlen: number;
  readonly outbuf: Capability;
  readonly outlen: number;
  /** True when the call came through cocall_slow. */
  slow: boolean;
}

/** Handler form: runs for each call, returns the reply length written to `outbuf`. */
export type CoacceptHandler = (call: IncomingCall) => number | void;
/**
 * Loop form, CheriBSD style: `yield reply` *is* coaccept — it returns `reply` bytes to the
 * previous caller, parks, and resumes with the next call. The first yield's value is ignored.
 */
export type CoacceptLoop = () => Generator<number, number | void, IncomingCall>;

export interface AcceptBuffers {
  readonly inbuf: Capability;
  readonly inlen?: number;
  readonly outbuf: Capability;
  readonly outlen?: number;
}

/** The identity of a thread as the switcher knows it. */
export interface SwitcherThread {
  readonly pid: number;
  readonly tid: number;
  readonly task: Task;
  readonly alive: boolean;
}

type ScbState = 'never-accepted' | 'available' | 'busy' | 'slow' | 'not-accepting' | 'gone';

interface AcceptSession {
  readonly invoke: (call: IncomingCall) => number;
  readonly call: IncomingCall;
  readonly inAddr: number;
  readonly outAddr: number;
  readonly slow: boolean;
  readonly stopped: Promise<void>;
  readonly stop: () => void;
}

class Scb {
  state: ScbState = 'never-accepted';
  callPair: SwitcherPair | undefined;
  acceptPair: SwitcherPair | undefined;
  target: Capability | undefined;
  name: string | undefined;
  session: AcceptSession | undefined;
  /** Calls served and made, for tools. */
  served = 0;
  made = 0;
  constructor(
    readonly thread: SwitcherThread,
    readonly base: number,
    readonly cap: Capability,
    readonly cookie: Capability,
    readonly available: WaitQueue,
  ) {}
}

/** Privileged material the address space hands the switcher at boot. */
export interface SwitcherKernel {
  readonly machine: CapMachine;
  readonly memory: TaggedMemory;
  readonly scheduler: Scheduler;
  /** Allocate an SCB region in kernel memory (unsealed, kernel-only capability). */
  readonly allocateScb: () => Capability;
  /** Code capability of the switcher entry (EXECUTE|CINVOKE). */
  readonly entry: Capability;
  /** SEAL|UNSEAL for the otype of cosetup pairs. */
  readonly pairKey: Capability;
  /** SEAL|UNSEAL for the otype of targets. */
  readonly targetKey: Capability;
  readonly stripTags: boolean;
}

/**
 * One cocall as a tracer sees it (ktrace-style interposition at the switcher). Buffers are the
 * caller's own capabilities: a tracer reads them with the machine's checked loads.
 */
export interface CocallTraceEnter {
  readonly seq: number;
  readonly slow: boolean;
  readonly caller: { readonly pid: number; readonly tid: number };
  /** Undefined when the target names no thread (the call fails with EINVAL). */
  readonly callee: { readonly pid: number; readonly tid: number; readonly name: string | undefined } | undefined;
  readonly outbuf: Capability;
  readonly outlen: number;
  readonly inbuf: Capability;
  readonly inlen: number;
}

export interface CocallTracer {
  enter(call: CocallTraceEnter): void;
  exit(call: CocallTraceEnter, result: E.Either<SysError, number>): void;
  /** Threads runtime: `count` records were dropped (the host did not drain the log for a second). */
  lost?(count: number): void;
}

export interface SwitcherStats {
  readonly pid: number;
  readonly tid: number;
  readonly state: ScbState;
  readonly name: string | undefined;
  readonly served: number;
  readonly made: number;
}

export class Switcher {
  readonly #k: SwitcherKernel;
  readonly #byThread = new Map<SwitcherThread, Scb>();
  readonly #byBase = new Map<number, Scb>();
  readonly #targets = new WeakMap<Capability, Scb>();
  readonly #pairs = new WeakMap<Capability, Scb>();
  readonly #names = new Map<string, Scb>();
  // One-entry caches: a thread calling one target in a loop skips both map lookups.
  #lastThread: SwitcherThread | undefined;
  #lastThreadScb: Scb | undefined;
  #lastTarget: Capability | undefined;
  #lastTargetScb: Scb | undefined;

  constructor(kernel: SwitcherKernel) {
    this.#k = kernel;
  }

  get otypes(): { pair: number; target: number } {
    return { pair: Number(this.#k.pairKey.address), target: Number(this.#k.targetKey.address) };
  }

  #scb(thread: SwitcherThread): Scb {
    let scb = this.#byThread.get(thread);
    if (scb === undefined) {
      const cap = this.#k.allocateScb();
      scb = new Scb(thread, cap.addressNumber, cap, this.#k.machine.clearTag(cap), new WaitQueue(this.#k.scheduler));
      this.#byThread.set(thread, scb);
      this.#byBase.set(scb.base, scb);
      if (this.#lastThread === thread) this.#lastThread = undefined;
    }
    return scb;
  }

  /** cosetup(2): the calling thread's sealed pair for COCALL or COACCEPT. */
  cosetup(thread: SwitcherThread, what: number): E.Either<SysError, SwitcherPair> {
    if (what !== COSETUP_COCALL && what !== COSETUP_COACCEPT) {
      return E.left(sysError('EINVAL', 'cosetup', `unknown cosetup kind ${String(what)}`));
    }
    if (!thread.alive) return E.left(sysError('ESRCH', 'cosetup', 'thread has exited'));
    const scb = this.#scb(thread);
    const existing = what === COSETUP_COCALL ? scb.callPair : scb.acceptPair;
    if (existing !== undefined) return E.right(existing);
    const m = this.#k.machine;
    const pair: SwitcherPair = Object.freeze({
      what,
      code: m.seal(this.#k.entry, this.#k.pairKey),
      data: m.seal(m.andPerm(scb.cap, Perm.LOAD | Perm.STORE | Perm.CINVOKE | Perm.GLOBAL), this.#k.pairKey),
    });
    // The pair must open with CInvoke onto this SCB: check it once, here.
    const opened = m.invoke(pair.code, pair.data);
    if (opened.data.addressNumber !== scb.base) throw new Error('switcher pair does not open onto its SCB');
    this.#pairs.set(pair.data, scb);
    if (what === COSETUP_COCALL) scb.callPair = pair;
    else scb.acceptPair = pair;
    return E.right(pair);
  }

  /** coregister(2): the thread's public target, optionally registered under `name`. */
  coregister(thread: SwitcherThread, name?: string): E.Either<SysError, Capability> {
    if (name !== undefined) {
      if (typeof name !== 'string' || name.length === 0) return E.left(sysError('EINVAL', 'coregister', 'empty name'));
      if (name.length >= COREGISTER_NAME_MAX) return E.left(sysError('ENAMETOOLONG', 'coregister', 'name too long'));
      if (this.#names.has(name)) return E.left(sysError('EEXIST', 'coregister', `name "${name}" is registered`));
    }
    if (!thread.alive) return E.left(sysError('ESRCH', 'coregister', 'thread has exited'));
    const scb = this.#scb(thread);
    if (scb.target === undefined) {
      const m = this.#k.machine;
      const target = m.seal(m.andPerm(scb.cap, Perm.GLOBAL), this.#k.targetKey);
      this.#targets.set(target, scb);
      scb.target = target;
    }
    if (name !== undefined) {
      if (scb.name !== undefined) this.#names.delete(scb.name);
      scb.name = name;
      this.#names.set(name, scb);
    }
    return E.right(scb.target);
  }

  /** colookup(2): a registered target by name. */
  colookup(name: string): E.Either<SysError, Capability> {
    if (typeof name !== 'string' || name.length === 0) return E.left(sysError('EINVAL', 'colookup', 'empty name'));
    if (name.length >= COREGISTER_NAME_MAX) return E.left(sysError('ENAMETOOLONG', 'colookup', 'name too long'));
    const scb = this.#names.get(name);
    if (scb === undefined || scb.target === undefined) return E.left(sysError('ESRCH', 'colookup', `no target named "${name}"`));
    return E.right(scb.target);
  }

  /** Target capability → SCB: by identity, else the faithful check and CUnseal (then cached). */
  #resolveTarget(target: unknown, op: string): Scb | SysError {
    if (typeof target === 'object' && target !== null) {
      const hit = this.#targets.get(target as Capability);
      if (hit !== undefined) return hit;
    }
    const scb = this.#unsealTarget(target, op);
    if (scb instanceof Scb) this.#targets.set(target as Capability, scb);
    return scb;
  }

  /** The SCB behind a cosetup pair, checking that `thread` owns it (pairs are not transferable). */
  pairOwner(thread: SwitcherThread, pair: SwitcherPair, op: string): Scb | SysError {
    const scb = typeof pair?.data === 'object' ? this.#pairs.get(pair.data) : undefined;
    if (scb === undefined) return sysError('EINVAL', op, 'not a cosetup pair');
    if (scb.thread !== thread) return sysError('EINVAL', op, "another thread's cosetup pair");
    return scb;
  }

  /**
   * cocall(2), fast path. Returns the bytes copied into `inbuf`. Synchronous: the callee runs
   * on this stack. A callee busy further up this call chain would deadlock → EDEADLK.
   */
  cocall(
    thread: SwitcherThread,
    target: Capability,
    outbuf: Capability,
    outlen: number,
    inbuf: Capability,
    inlen: number,
  ): E.Either<SysError, number> {
    return this.tracer === undefined ? this.#call(thread, target, outbuf, outlen, inbuf, inlen, false) : this.#traced(thread, target, outbuf, outlen, inbuf, inlen, false);
  }

  /** cocall_slow(2): the same call through the kernel (no identity caches, fresh buffers). */
  cocallSlow(
    thread: SwitcherThread,
    target: Capability,
    outbuf: Capability,
    outlen: number,
    inbuf: Capability,
    inlen: number,
  ): E.Either<SysError, number> {
    return this.tracer === undefined ? this.#call(thread, target, outbuf, outlen, inbuf, inlen, true) : this.#traced(thread, target, outbuf, outlen, inbuf, inlen, true);
  }

  /** Set to observe every cocall (both paths); unset, the call path pays one check. */
  tracer: CocallTracer | undefined;
  #traceSeq = 0;

  #traced(
    thread: SwitcherThread,
    target: Capability,
    outbuf: Capability,
    outlen: number,
    inbuf: Capability,
    inlen: number,
    slow: boolean,
  ): E.Either<SysError, number> {
    const tracer = this.tracer!;
    const scb = this.#resolveTarget(target, 'trace');
    const callee = scb instanceof Scb ? { pid: scb.thread.pid, tid: scb.thread.tid, name: scb.name } : undefined;
    const call: CocallTraceEnter = { seq: ++this.#traceSeq, slow, caller: { pid: thread.pid, tid: thread.tid }, callee, outbuf, outlen, inbuf, inlen };
    tracer.enter(call);
    const r = this.#call(thread, target, outbuf, outlen, inbuf, inlen, slow);
    tracer.exit(call, r);
    return r;
  }

  #call(
    thread: SwitcherThread,
    target: Capability,
    outbuf: Capability,
    outlen: number,
    inbuf: Capability,
    inlen: number,
    slow: boolean,
  ): E.Either<SysError, number> {
    const op = slow ? 'cocall_slow' : 'cocall';
    let caller: Scb | undefined;
    if (thread === this.#lastThread) caller = this.#lastThreadScb;
    else {
      caller = this.#byThread.get(thread);
      this.#lastThread = thread;
      this.#lastThreadScb = caller;
    }
    if (caller === undefined || caller.callPair === undefined) return E.left(sysError('EINVAL', op, 'no cosetup(COSETUP_COCALL) on this thread'));
    if (!thread.alive) return E.left(sysError('ESRCH', op, 'calling thread has exited'));
    let callee: Scb | SysError;
    if (slow) callee = this.#unsealTarget(target, op);
    else if (target === this.#lastTarget && this.#lastTargetScb !== undefined) callee = this.#lastTargetScb;
    else {
      callee = this.#resolveTarget(target, op);
      if (callee instanceof Scb) {
        this.#lastTarget = target;
        this.#lastTargetScb = callee;
      }
    }
    if (!(callee instanceof Scb)) return E.left(callee);
    switch (callee.state) {
      case 'available':
        if (slow) return E.left(sysError('EPROTOTYPE', op, 'callee accepts fast calls'));
        break;
      case 'slow':
        if (!slow) return E.left(sysError('EPROTOTYPE', op, 'callee accepts slow calls'));
        break;
      case 'never-accepted':
      case 'not-accepting':
        return E.left(sysError('EAGAIN', op, 'callee is not in coaccept'));
      case 'gone':
        return E.left(sysError('ENOLINK', op, 'callee thread has exited'));
      case 'busy':
        return E.left(sysError('EDEADLK', op, 'callee is busy serving a call further up this call chain'));
    }
    const bufErr = checkBuffer(outbuf, outlen, Perm.LOAD, op, 'outbuf') ?? checkBuffer(inbuf, inlen, Perm.STORE, op, 'inbuf');
    if (bufErr !== undefined) return E.left(bufErr);
    const session = callee.session!;
    const call = session.call;
    const n = Math.min(outlen, call.inlen);
    callee.state = 'busy';
    let reply: number;
    try {
      if (!this.#copy(call.inbuf, session.inAddr, outbuf, n)) {
        callee.state = session.slow ? 'slow' : 'available';
        return E.left(sysError('EFAULT', op, 'capability in outbuf cannot be stored into the callee buffer'));
      }
      call.cookie = caller.cookie;
      call.length = n;
      call.slow = slow;
      caller.made++;
      callee.served++;
      reply = session.invoke(call);
    } catch (e) {
      // The callee faulted while running on our stack: it dies, we see it gone.
      this.#calleeFault(callee, e);
      return E.left(sysError('ENOLINK', op, `callee faulted: ${e instanceof Error ? e.message : String(e)}`));
    }
    if (callee.state === 'busy') callee.state = session.slow ? 'slow' : 'available';
    const m = Math.min(reply, inlen, call.outlen);
    if (m > 0 && !this.#copy(inbuf, inbuf.addressNumber, call.outbuf, m)) {
      return E.left(sysError('EFAULT', op, 'capability in reply cannot be stored into inbuf'));
    }
    if (callee.available.size > 0) callee.available.wakeOne();
    return rightOf(m);
  }

  /** The faithful tag/otype check and CUnseal, as the kernel does; the slow path always uses it. */
  #unsealTarget(target: unknown, op: string): Scb | SysError {
    if (!Capability.is(target) || !target.tag) return sysError('EINVAL', op, 'target is not a tagged capability');
    if (target.otype !== this.otypes.target) return sysError('EINVAL', op, 'target is not a switcher target');
    const opened = this.#k.machine.unseal(target, this.#k.targetKey);
    const scb = opened.tag ? this.#byBase.get(opened.addressNumber) : undefined;
    return scb ?? sysError('EINVAL', op, 'target names no thread');
  }

  #copy(dst: Capability, dstAddr: number, src: Capability, n: number): boolean {
    return copyCallBuffer(this.#k.memory, dst, dstAddr, src, n, this.#k.stripTags);
  }

  #calleeFault(callee: Scb, e: unknown): void {
    callee.state = 'gone';
    this.onCalleeFault?.(callee.thread, e);
  }

  /** Set by the address space: a callee faulted during a call (its co-process is killed). */
  onCalleeFault: ((thread: SwitcherThread, error: unknown) => void) | undefined;

  /**
   * coaccept: make `thread` serve calls until it exits or `stop()` is called. `handler` is a
   * function (called per call) or a generator function (the loop form). Resolves the returned
   * `stopped` promise when serving ends.
   */
  coaccept(
    thread: SwitcherThread,
    handler: CoacceptHandler | CoacceptLoop,
    buffers: AcceptBuffers,
    slow = false,
  ): E.Either<SysError, { readonly stopped: Promise<void>; readonly stop: () => void }> {
    const op = slow ? 'coaccept_slow' : 'coaccept';
    const scb = this.#byThread.get(thread);
    if (scb === undefined || scb.acceptPair === undefined) return E.left(sysError('EINVAL', op, 'no cosetup(COSETUP_COACCEPT) on this thread'));
    if (!thread.alive) return E.left(sysError('ESRCH', op, 'thread has exited'));
    if (scb.session !== undefined) return E.left(sysError('EBUSY', op, 'thread is already in coaccept'));
    const inlen = buffers.inlen ?? Number(buffers.inbuf.length);
    const outlen = buffers.outlen ?? Number(buffers.outbuf.length);
    const bufErr = checkBuffer(buffers.inbuf, inlen, Perm.STORE, op, 'inbuf') ?? checkBuffer(buffers.outbuf, outlen, Perm.LOAD, op, 'outbuf');
    if (bufErr !== undefined) return E.left(bufErr);
    const call: IncomingCall = {
      cookie: scb.cookie,
      length: 0,
      inbuf: buffers.inbuf,
      inlen,
      outbuf: buffers.outbuf,
      outlen,
      slow,
    };
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = () => {
        if (scb.session !== session) return;
        scb.session = undefined;
        if (scb.state !== 'gone') scb.state = 'not-accepting';
        resolve();
      };
    });
    const invoke = isGeneratorFunction(handler) ? loopInvoker(handler, () => stop()) : plainInvoker(handler);
    const session: AcceptSession = { invoke, call, inAddr: buffers.inbuf.addressNumber, outAddr: buffers.outbuf.addressNumber, slow, stopped, stop };
    scb.session = session;
    scb.state = slow ? 'slow' : 'available';
    scb.available.wakeAll();
    return E.right({ stopped, stop });
  }

  /** cogetpid(2): the pid behind a caller cookie. */
  cogetpid(cookie: Capability): E.Either<SysError, number> {
    if (!Capability.is(cookie)) return E.left(sysError('EINVAL', 'cogetpid', 'cookie is not a capability'));
    const scb = this.#byBase.get(cookie.addressNumber);
    if (scb === undefined || cookie.tag) return E.left(sysError('ESRCH', 'cogetpid', 'cookie names no caller'));
    return E.right(scb.thread.pid);
  }

  /** Wait (in the scheduler) until the target may accept; for callers that got EAGAIN. */
  async waitAvailable(thread: SwitcherThread, target: Capability, timeoutMs: number): Promise<E.Either<SysError, void>> {
    const scb = this.#resolveTarget(target, 'cocall');
    if (!(scb instanceof Scb)) return E.left(scb);
    if (scb.state === 'available' || scb.state === 'slow') return E.right(undefined);
    if (scb.state === 'gone') return E.left(sysError('ENOLINK', 'cocall', 'callee thread has exited'));
    const why = await scb.available.wait(thread.task, timeoutMs);
    if (why === 'timeout') return E.left(sysError('ETIMEDOUT', 'cocall', 'callee did not enter coaccept in time'));
    if (why === 'deadlock') return E.left(sysError('EDEADLK', 'cocall', 'callee can never enter coaccept'));
    return E.right(undefined);
  }

  /** A thread exited: its target answers ENOLINK, its name is freed, waiters are told. */
  threadExited(thread: SwitcherThread): void {
    const scb = this.#byThread.get(thread);
    if (scb === undefined) return;
    scb.session?.stop();
    scb.state = 'gone';
    if (scb.name !== undefined && this.#names.get(scb.name) === scb) this.#names.delete(scb.name);
    scb.name = undefined;
    scb.available.wakeAll('closed');
  }

  /** Per-thread switcher state, for tools (`comsg ps`). */
  stats(): SwitcherStats[] {
    return [...this.#byThread.values()].map((s) => ({
      pid: s.thread.pid,
      tid: s.thread.tid,
      state: s.state,
      name: s.name,
      served: s.served,
      made: s.made,
    }));
  }

  /** The thread a target names (for tools such as `comsg capv`), if it is a live target. */
  describeTarget(target: Capability): { pid: number; tid: number; name: string | undefined; state: ScbState } | undefined {
    const scb = this.#resolveTarget(target, 'describe');
    return scb instanceof Scb ? { pid: scb.thread.pid, tid: scb.thread.tid, name: scb.name, state: scb.state } : undefined;
  }
}

/** Frozen, shared `Right(n)` for reply lengths: the fast path allocates nothing per call. */
const rights: Array<E.Either<SysError, number> | undefined> = [];
function rightOf(n: number): E.Either<SysError, number> {
  if (n >= 65536) return E.right(n);
  return (rights[n] ??= Object.freeze(E.right(n)));
}

/**
 * @internal The switcher's buffer copy (both runtimes): `n` bytes from `src` (already checked)
 * to `dst` at `dstAddr`. Tags travel with whole aligned granules unless `stripTags`; false when
 * a capability may not be stored there (a tag-rule fault).
 */
export function copyCallBuffer(mem: TaggedMemory, dst: Capability, dstAddr: number, src: Capability, n: number, stripTags: boolean): boolean {
  if (n <= 0) return true;
  const srcAddr = src.addressNumber;
  if (stripTags || !mem.anyTag(srcAddr, n)) {
    mem.copy(dstAddr, srcAddr, n, false);
    return true;
  }
  try {
    copyBytes(mem, dst, dstAddr - dst.addressNumber, src, 0, n, false);
    return true;
  } catch (e) {
    if (e instanceof CapabilityFault) return false;
    throw e;
  }
}

/** @internal shared with the threads runtime */
export function checkBuffer(buf: Capability, len: number, perm: number, op: string, which: string): SysError | undefined {
  if (!Number.isInteger(len) || len < 0) return sysError('EINVAL', op, `${which} length ${String(len)} is invalid`);
  if (len === 0) return undefined;
  let at: number;
  try {
    at = Capability.accessCheck(buf, 0, len, perm);
  } catch {
    return sysError('EINVAL', op, `${which} is not a capability`);
  }
  if (at === -0x02) return sysError('EINVAL', op, `${which} is NULL or untagged with non-zero length`);
  if (at < 0) return sysError('EFAULT', op, `${which} does not grant ${len} bytes of ${perm === Perm.LOAD ? 'LOAD' : 'STORE'}`);
  if ((at & 15) !== 0) return sysError('EINVAL', op, `${which} is not 16-byte aligned`);
  return undefined;
}

/** @internal */
export function isGeneratorFunction(f: unknown): f is CoacceptLoop {
  return typeof f === 'function' && Object.prototype.toString.call(f) === '[object GeneratorFunction]';
}

function replyLength(r: unknown): number {
  if (r === undefined) return 0;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) {
    throw new TypeError(`coaccept handler returned ${String(r)}, not a reply length`);
  }
  return r;
}

/** @internal */
export function plainInvoker(handler: CoacceptHandler): (call: IncomingCall) => number {
  return (call) => replyLength(handler(call));
}

/** Drive a generator-based accept loop: `yield reply` answers and parks for the next call. */
export function loopInvoker(loop: CoacceptLoop, onReturn: () => void): (call: IncomingCall) => number {
  const gen = loop();
  gen.next(); // run up to the first coaccept
  return (call) => {
    const r = gen.next(call);
    if (r.done === true) {
      onReturn();
      return replyLength(r.value);
    }
    return replyLength(r.value);
  };
}
