/**
 * The co-process side of a threads-runtime worker: attaches a CapMachine to the shared
 * buffers, rebuilds the privileged capabilities its switcher needs from the boot record, and
 * gives the program the same CoProcessApi/CoThreadApi the inline runtime does.
 */
import * as E from 'fp-ts/lib/Either.js';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Capability } from '../capability.js';
import { sysError, type ErrnoName, type SysError } from '../errno.js';
import { CODE_PERMS, CapMachine, codeBytes, type BootedMachine, type EntryCode } from '../machine.js';
import { Perm, PermSet } from '../perms.js';
import type { WakeReason } from '../scheduler.js';
import type { AcceptBuffers, CoacceptHandler, CoacceptLoop, SwitcherPair } from '../switcher.js';
import type { AcceptSession, CodeFactory, CodeModule, CoProcessApi, CoProcessHandle, CoThreadApi, ExitStatus, ProgramModule, WaitpidOptions } from '../runtime-api.js';
import type { Program } from '../address-space.js';
import { CAPV_SLOTS, CAPV_STAGE, D_RPC } from './layout.js';
import type { LinkableCode, RpcReply, RpcRequest, WorkerBoot, WorkerMessage } from './protocol.js';
import { FutexSleepers } from './futex-sleepers.js';
import { SlowInbox } from './slow-inbox.js';
import { SLICE_MS } from './spin-wait.js';
import { ThreadSwitcher } from './thread-switcher.js';
import { RobustWord, wakeAddress, wordAt, type WordWindow } from '../word-window.js';

/** Thrown inside a co-process to unwind it on exit(). */
export class ThreadExit {
  constructor(readonly code: number) {}
}

/** Synchronous and asynchronous RPC to the kernel thread. */
export class KernelLink {
  #next = 1;
  readonly #pending = new Map<number, (r: RpcReply) => void>();
  readonly #parent: MessagePort;
  readonly #reply: MessagePort;
  readonly #bell: Int32Array;

  constructor(parent: MessagePort, reply: MessagePort, bell: Int32Array) {
    this.#parent = parent;
    this.#reply = reply;
    this.#bell = bell;
    parent.on('message', (m: { t: string } & RpcReply) => {
      if (m.t !== 'reply') return;
      const settle = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      settle?.(m);
    });
    // The port stays referenced: the worker lives until its program ends (finish() exits it).
  }

  post(msg: WorkerMessage): void {
    this.#parent.postMessage(msg);
  }

  /** Block this worker until the kernel answers; `tid` is the asking thread. */
  call(tid: number, req: RpcRequest): E.Either<SysError, unknown> {
    const id = this.#next++;
    const seen = Atomics.load(this.#bell, D_RPC);
    this.post({ t: 'rpc', id, tid, req, sync: true });
    let bell = seen;
    for (;;) {
      const got = receiveMessageOnPort(this.#reply);
      if (got !== undefined) {
        const r = got.message as RpcReply;
        if (r.id === id) return toEither(req.op, r);
        continue;
      }
      Atomics.wait(this.#bell, D_RPC, bell, 1000);
      bell = Atomics.load(this.#bell, D_RPC);
    }
  }

  /** Ask without blocking the worker (waitpid): the kernel answers on the parent port. */
  callAsync(tid: number, req: RpcRequest): Promise<E.Either<SysError, unknown>> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, (r) => resolve(toEither(req.op, r)));
      this.post({ t: 'rpc', id, tid, req, sync: false });
    });
  }
}

function toEither(op: string, r: RpcReply): E.Either<SysError, unknown> {
  if ('err' in r) return E.left(sysError(r.err.name as ErrnoName, op, r.err.message));
  return E.right(r.ok);
}

/** The privileged state of one worker; never handed to the program. */
export class WorkerHost {
  readonly booted: BootedMachine;
  readonly link: KernelLink;
  /** The main thread's switcher (the thread the worker was started for). */
  readonly switcher: ThreadSwitcher;
  readonly kernelRegion: Capability;
  readonly boot: WorkerBoot;
  readonly #slowInbox: SlowInbox;
  /** Futex sleeper counts shared by every worker and the host (wakes skip empty buckets). */
  readonly sleepers: FutexSleepers;
  readonly #entry: Capability;
  readonly #pairKey: Capability;
  readonly #targetKey: Capability;
  readonly #switchers = new Set<ThreadSwitcher>();

  constructor(boot: WorkerBoot, parent: MessagePort) {
    this.boot = boot;
    this.booted = CapMachine.boot({ buffers: boot.buffers, mode: boot.mode });
    const { machine: m, roots } = this.booted;
    this.link = new KernelLink(parent, boot.replyPort, new Int32Array(boot.doorbell));
    this.kernelRegion = m.restrict(roots.memory, BigInt(boot.kernel.base), BigInt(boot.kernel.length), PermSet.DATA | Perm.CINVOKE);
    const key = (otype: number): Capability => m.andPerm(m.setBoundsExact(m.setAddress(roots.sealing, BigInt(otype)), 1n), PermSet.SEALCAP);
    this.#entry = m.restrict(roots.memory, BigInt(boot.entryBase), 64n, Perm.GLOBAL | Perm.EXECUTE | Perm.LOAD | Perm.CINVOKE);
    this.#pairKey = key(boot.pairOtype);
    this.#targetKey = key(boot.targetOtype);
    this.#slowInbox = new SlowInbox(boot.slowPort);
    this.sleepers = new FutexSleepers(new Int32Array(boot.runtimeWords));
    this.switcher = this.newSwitcher(boot.tid, boot.scbBase);
  }

  /** A switcher for one thread of this worker (its own SCB, tid and waiter). */
  newSwitcher(tid: number, scbBase: number): ThreadSwitcher {
    const boot = this.boot;
    const sw: ThreadSwitcher = new ThreadSwitcher({
      machine: this.booted.machine,
      memory: this.booted.memory,
      kernelRegion: this.kernelRegion,
      entry: this.#entry,
      pairKey: this.#pairKey,
      targetKey: this.#targetKey,
      runtimeWords: new Int32Array(boot.runtimeWords),
      doorbell: new Int32Array(boot.doorbell),
      slowInbox: this.#slowInbox,
      stripTags: boot.stripTags,
      callTimeoutMs: boot.callTimeoutMs,
      self: { pid: boot.pid, tid, scbBase },
      rpc: (req) => this.rpc(req, tid),
      post: (msg) => this.link.post(msg),
    });
    this.#switchers.add(sw);
    return sw;
  }

  /** Synchronous RPC as thread `tid`: nobody on this worker may count as a spinner while it blocks. */
  rpc(req: RpcRequest, tid: number = this.boot.tid): E.Either<SysError, unknown> {
    this.releaseSpinners();
    return this.link.call(tid, req);
  }

  /** Forget a thread's switcher once it has ended. */
  dropSwitcher(sw: ThreadSwitcher): void {
    sw.releaseSpinner();
    this.#switchers.delete(sw);
  }

  /** Give back every spinner ticket this worker holds (before it blocks or exits). */
  releaseSpinners(): void {
    for (const sw of this.#switchers) sw.releaseSpinner();
  }

  /** The capability vector block of this process (kernel memory). */
  capvBlock(): Capability {
    const m = this.booted.machine;
    return m.restrict(this.kernelRegion, BigInt(this.boot.capvBase) - this.kernelRegion.base, BigInt(CAPV_STAGE * 2), PermSet.DATA);
  }

  /** A capability to a region the kernel granted us. */
  grantCap(base: number, length: number, perms: number): Capability {
    return this.booted.machine.restrict(this.booted.roots.memory, BigInt(base), BigInt(length), perms & (PermSet.DATA | Perm.CINVOKE));
  }

  /** Install `code` (a factory's entries, in `names` order) at the text region `textBase`. */
  installCode<K extends string>(textBase: number, names: readonly K[], code: Readonly<Record<K, EntryCode>>): Record<K, Capability> {
    const m = this.booted.machine;
    return m.installEntries(m.restrict(this.booted.roots.memory, BigInt(textBase), BigInt(codeBytes(names.length)), CODE_PERMS), names, code);
  }

  /** A read-only view of a loaded code's parameter block, for linking it here. */
  paramsCap(base: number, length: number): Capability {
    return this.booted.machine.restrict(this.booted.roots.memory, BigInt(base), BigInt(length), Perm.GLOBAL | Perm.LOAD | Perm.LOAD_CAP);
  }
}

/** What futexWait answers when a word already differs, or changed while it spun (shared settled promises). */
const CHANGED: Promise<'changed'> = Promise.resolve('changed');
const WOKEN: Promise<WakeReason> = Promise.resolve('woken');

export class ThreadCoThread implements CoThreadApi {
  /** Each worker runs in parallel with the others, and may be terminated at any point. */
  readonly preemptible = true;
  readonly #host: WorkerHost;
  readonly #sw: ThreadSwitcher;
  readonly #tid: number;
  readonly #name: string;
  #alive = true;

  constructor(host: WorkerHost, sw: ThreadSwitcher, tid: number, name: string) {
    this.#host = host;
    this.#sw = sw;
    this.#tid = tid;
    this.#name = name;
  }

  get pid(): number {
    return this.#host.boot.pid;
  }
  get tid(): number {
    return this.#tid;
  }
  get name(): string {
    return this.#name;
  }
  get alive(): boolean {
    return this.#alive;
  }
  /** @internal */
  exited(): void {
    this.#alive = false;
  }
  /** Spin/sleep counts of this thread's waits (behaviour, not time: for tests and tools). */
  get waitStats(): { readonly spins: number; readonly sleeps: number } {
    return { ...this.#sw.stats };
  }

  cosetup(what: number): E.Either<SysError, SwitcherPair> {
    return this.#sw.cosetup(what);
  }
  coregister(name?: string): E.Either<SysError, Capability> {
    return this.#sw.coregister(name);
  }
  colookup(name: string): E.Either<SysError, Capability> {
    return this.#sw.colookup(name);
  }
  cocall(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    return this.#sw.cocall(target, outbuf, outlen, inbuf, inlen);
  }
  cocallSlow(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    return this.#sw.cocallSlow(target, outbuf, outlen, inbuf, inlen);
  }
  cocallWith(pair: SwitcherPair, target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    if (!this.#sw.ownsPair(pair)) return E.left(sysError('EINVAL', 'cocall', "not this thread's cosetup pair"));
    return this.cocall(target, outbuf, outlen, inbuf, inlen);
  }
  /** Blocks the worker while it serves (the lowest latency); `startAccepting` does not. */
  coaccept(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers): Promise<E.Either<SysError, void>> {
    return Promise.resolve(this.#sw.serve(handler, buffers, false));
  }
  coacceptSlow(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers): Promise<E.Either<SysError, void>> {
    return Promise.resolve(this.#sw.serve(handler, buffers, true));
  }
  startAccepting(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers, slow = false): E.Either<SysError, AcceptSession> {
    return this.#sw.startAccepting(handler, buffers, slow);
  }
  async park(until: Promise<unknown>, _onClosed?: () => void): Promise<WakeReason> {
    // When the co-process ends its worker ends with it: nothing is left to run onClosed.
    await this.#sw.park(until);
    return 'woken';
  }
  cogetpid(cookie: Capability): E.Either<SysError, number> {
    return this.#sw.cogetpid(cookie);
  }
  waitForTarget(target: Capability, timeoutMs: number): Promise<E.Either<SysError, void>> {
    return this.#sw.waitAvailable(target, timeoutMs);
  }
  /** @internal the switcher behind this thread */
  get switcher(): ThreadSwitcher {
    return this.#sw;
  }

  /**
   * Futexes are Atomics.wait/notify on the shared words themselves: spin for the calibrated
   * budget first (a streaming peer usually changes the word within it, and a wake through
   * waitAsync costs the event loop tens of µs), then sleep counted in the word's bucket.
   * Several words sleep in slices, so the waits left on the words that did not fire expire.
   */
  futexWait(words: ReadonlyArray<{ readonly cap: Capability; readonly offset: number; readonly expected: number }>, timeoutMs?: number): Promise<WakeReason | 'changed'> {
    // Not an async function: a word that differs, or changes within the spin, answers with
    // one shared settled promise — the common case of a streaming peer, where an async
    // function's own promise and frame were a good part of the wait.
    const m = this.#host.booted.machine;
    const idx: number[] = [];
    const expected: number[] = [];
    try {
      for (const w of words) {
        if (m.loadI32(w.cap, w.offset) !== w.expected) return CHANGED;
        const a = w.cap.addressNumber + w.offset;
        if ((a & 3) !== 0) throw new RangeError('futex word must be 4-byte aligned');
        idx.push(a >>> 2);
        expected.push(w.expected | 0);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    if (idx.length === 0) return CHANGED;
    if (idx.length === 1 ? this.#sw.spinWord(idx[0]!, expected[0]!) : this.#sw.spinWords(idx, expected)) return WOKEN;
    return this.#sleep(idx, expected, timeoutMs);
  }

  /** futexWait's sleeping half, once the spin found no change. */
  async #sleep(idx: readonly number[], expected: readonly number[], timeoutMs: number | undefined): Promise<WakeReason | 'changed'> {
    const W = this.#host.booted.memory.words;
    const sleepers = this.#host.sleepers;
    const deadline = timeoutMs === undefined || timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return 'timeout';
      // One word sleeps for all that is left; several sleep in slices (see FutexSleepers.sleep).
      const slice = idx.length > 1 ? Math.min(left, SLICE_MS) : left === Infinity ? undefined : left;
      const r = await sleepers.sleep(W, idx, expected, slice);
      if (r !== 'timed-out' || idx.some((i, k) => Atomics.load(W, i) !== expected[k])) return 'woken';
    }
  }
  futexWake(at: Capability | WordWindow, offset: number): number {
    return this.#host.sleepers.wake(this.#host.booted.memory.words, wakeAddress(this.#host.booted.machine, at, offset) >>> 2);
  }
  spinWhile(at: WordWindow, offset: number, seen: number): boolean {
    return this.#sw.spinWord(at.address(offset) >>> 2, seen);
  }
  robustEnter(at: Capability | WordWindow, offset: number, rollback: number, wakeOffset: number): number {
    const m = this.#host.booted.machine;
    return this.#sw.robustEnter(wordAt(m, at, offset), wordAt(m, at, wakeOffset), rollback);
  }
  robustEnterWord(word: RobustWord, rollback: number): number {
    return this.#sw.robustEnter(RobustWord.word(word), RobustWord.wake(word), rollback);
  }
  robustLeave(slot: number): void {
    this.#sw.robustLeave(slot);
  }
  now(): number {
    return performance.now();
  }
  yield(): Promise<WakeReason> {
    return new Promise((r) => setImmediate(() => r('woken')));
  }
  sleep(ms: number): Promise<WakeReason> {
    return new Promise((r) => setTimeout(() => r('timeout'), Math.max(0, ms)));
  }
}

export class ThreadCoProcessContext implements CoProcessApi {
  readonly runtime = 'threads' as const;
  readonly thread: ThreadCoThread;
  readonly #host: WorkerHost;
  readonly #capv: Array<Capability | undefined>;
  /** How a thread that threw or called exit() ends the co-process (the worker entry's finish). */
  readonly #end: (e: unknown) => void;

  constructor(host: WorkerHost, thread: ThreadCoThread, end: (e: unknown) => void) {
    this.#host = host;
    this.thread = thread;
    this.#end = end;
    const block = host.capvBlock();
    const m = host.booted.machine;
    this.#capv = [];
    for (let i = 0; i < host.boot.capc; i++) {
      const c = m.loadCap(block, i * 16);
      this.#capv.push(c.tag ? c : undefined);
    }
  }

  get pid(): number {
    return this.#host.boot.pid;
  }
  get name(): string {
    return this.#host.boot.name;
  }
  get argv(): readonly string[] {
    return this.#host.boot.argv;
  }
  get machine(): CapMachine {
    return this.#host.booted.machine;
  }
  get capv(): ReadonlyArray<Capability | undefined> {
    return this.#capv.slice();
  }

  capvset(index: number, cap: Capability | undefined): E.Either<SysError, void> {
    if (!Number.isInteger(index) || index < 0 || index >= CAPV_SLOTS) return E.left(sysError('EINVAL', 'capvset', `bad index ${index} (threads runtime: at most ${CAPV_SLOTS} slots)`));
    if (cap !== undefined && !Capability.is(cap)) return E.left(sysError('EINVAL', 'capvset', 'not a capability'));
    while (this.#capv.length <= index) this.#capv.push(undefined);
    this.#capv[index] = cap;
    const block = this.#host.capvBlock();
    this.#host.booted.machine.storeCap(block, index * 16, cap ?? this.#host.booted.machine.clearTag(block));
    this.#host.link.post({ t: 'capv', capc: this.#capv.length });
    return E.right(undefined);
  }

  malloc(bytes: number, perms: number = PermSet.DATA): E.Either<SysError, Capability> {
    if (!Number.isInteger(bytes) || bytes < 0) return E.left(sysError('EINVAL', 'malloc', `bad size ${bytes}`));
    const r = this.#grant(bytes);
    if (E.isLeft(r)) return r;
    return E.right(this.#host.grantCap(r.right.base, r.right.length, perms));
  }

  #grant(bytes: number): E.Either<SysError, { base: number; length: number }> {
    const r = this.#host.rpc({ op: 'grant', bytes });
    if (E.isLeft(r)) return E.left(sysError(r.left._tag, 'malloc', r.left.message));
    return E.right(r.right as { base: number; length: number });
  }

  /** Install the code here at once and record it with the kernel for other workers to link. */
  loadCode<K extends string>(code: CodeModule<K>, factory: CodeFactory<K>): E.Either<SysError, Record<K, Capability>> {
    const text = this.#grant(codeBytes(code.names.length));
    if (E.isLeft(text)) return E.left(sysError(text.left._tag, 'loadCode', text.left.message));
    const entries = this.#host.installCode(text.right.base, code.names, factory(this.machine, code.params));
    const r = this.#host.rpc({
      op: 'code_register',
      textBase: text.right.base,
      names: code.names,
      module: code.module instanceof URL ? code.module.href : code.module,
      export: code.export,
      paramsBase: code.params.baseNumber,
      paramsLength: Number(code.params.length),
    });
    return E.map(() => entries)(r);
  }

  /**
   * Link the code behind `entry` into this worker's machine: ask the kernel which module and
   * parameter block it was loaded from, import the module, build and install its entries.
   */
  async linkCode(entry: Capability): Promise<E.Either<SysError, void>> {
    if (!Capability.is(entry)) return E.left(sysError('EINVAL', 'linkCode', 'not a capability'));
    const m = this.machine;
    if (m.hasCode(entry.baseNumber)) return E.right(undefined);
    const r = this.#host.rpc({ op: 'code_of', address: entry.baseNumber });
    if (E.isLeft(r)) return r;
    const c = r.right as LinkableCode;
    let factory: unknown;
    try {
      factory = ((await import(c.module)) as Record<string, unknown>)[c.export];
    } catch (e) {
      return E.left(sysError('ENOEXEC', 'linkCode', `cannot load ${c.module}: ${String(e)}`));
    }
    if (typeof factory !== 'function') return E.left(sysError('ENOEXEC', 'linkCode', `${c.module} has no function "${c.export}"`));
    if (m.hasCode(entry.baseNumber)) return E.right(undefined); // linked meanwhile by another thread
    const code = (factory as CodeFactory<string>)(m, this.#host.paramsCap(c.paramsBase, c.paramsLength));
    if (c.names.some((n) => typeof code[n] !== 'function')) return E.left(sysError('ENOEXEC', 'linkCode', 'the module does not build every entry that was loaded'));
    this.#host.installCode(c.textBase, c.names, code);
    return E.right(undefined);
  }

  /** Another thread on this worker: its own SCB and switcher, sharing this heap. */
  spawnThread(name: string, fn: (thread: CoThreadApi) => Promise<void> | void): CoThreadApi {
    const r = this.#host.rpc({ op: 'thread_new', name });
    if (E.isLeft(r)) throw new Error(`spawnThread: ${r.left._tag}: ${r.left.message}`);
    const { tid, scbBase } = r.right as { tid: number; scbBase: number };
    const sw = this.#host.newSwitcher(tid, scbBase);
    const thread = new ThreadCoThread(this.#host, sw, tid, name);
    void (async () => {
      try {
        await fn(thread);
      } catch (e) {
        this.#end(e);
      } finally {
        thread.exited();
        this.#host.dropSwitcher(sw);
        this.#host.rpc({ op: 'thread_exit', tid });
      }
    })();
    return thread;
  }

  /** Unknown pids are only known as such after a kernel round trip: their promise never settles. */
  exitOf(pid: number): Promise<ExitStatus> | undefined {
    return this.#exitOf(pid, -1).then((s) => (E.isRight(s) ? s.right : new Promise<ExitStatus>(() => {})));
  }

  coexecve(program: ProgramModule | Program, argv?: readonly string[]): CoProcessHandle {
    return this.coexecvec(program, argv, this.#capv);
  }

  coexecvec(program: ProgramModule | Program, argv: readonly string[] | undefined, capv: ReadonlyArray<Capability | undefined>): CoProcessHandle {
    if (capv.length > CAPV_SLOTS) throw new RangeError(`threads runtime: capv holds at most ${CAPV_SLOTS} slots`);
    if (!('module' in program)) {
      const error = sysError('ENOEXEC', 'coexecvec', 'the threads runtime starts programs by module: pass { module, export? }');
      return { pid: -1, exited: Promise.resolve({ pid: -1, code: 127, reason: 'fault', error }) };
    }
    const m = this.#host.booted.machine;
    const block = this.#host.capvBlock();
    capv.forEach((c, i) => m.storeCap(block, CAPV_STAGE + i * 16, c ?? m.clearTag(block)));
    const r = this.#host.rpc({
      op: 'spawn',
      module: program.module instanceof URL ? program.module.href : program.module,
      export: program.export ?? 'main',
      name: program.name,
      argv,
      capc: capv.length,
    });
    if (E.isLeft(r)) {
      const pid = -1;
      return { pid, exited: Promise.resolve({ pid, code: 127, reason: 'fault', error: r.left }) };
    }
    const pid = r.right as number;
    return { pid, exited: this.#exitOf(pid, -1).then((s) => (E.isRight(s) ? s.right : { pid, code: 127, reason: 'fault' as const, error: s.left })) };
  }

  #exitOf(pid: number, timeoutMs: number): Promise<E.Either<SysError, ExitStatus>> {
    return this.#host.link.callAsync(this.thread.tid, { op: 'waitpid', pid, timeoutMs }) as Promise<E.Either<SysError, ExitStatus>>;
  }

  /** As inline; a `daemon` waiter is parked meanwhile (it does not keep `run()` going). */
  async waitpid(pid: number, options: WaitpidOptions = {}): Promise<E.Either<SysError, ExitStatus>> {
    const exit = this.#exitOf(pid, options.timeoutMs ?? -1);
    if (options.daemon !== true) return exit;
    const waiter = (options.thread as ThreadCoThread | undefined) ?? this.thread;
    await waiter.park(exit);
    return exit;
  }

  exit(code = 0): never {
    throw new ThreadExit(code);
  }

  print(...parts: unknown[]): void {
    this.#host.link.post({ t: 'print', line: parts.map((p) => (typeof p === 'string' ? p : String(p))).join(' ') });
  }

  now(): number {
    return performance.now();
  }
}
