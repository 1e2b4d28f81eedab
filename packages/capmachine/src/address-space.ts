/**
 * An address space: one tagged memory shared by colocated co-processes (CheriBSD's
 * coexecve). Isolation is by capabilities only — each co-process holds capabilities to the
 * regions it was granted, its capability vector (capv), and whatever it is handed over
 * cocalls; nothing else.
 *
 * The address space owns the privileged pieces (physical memory, root capabilities, the
 * switcher's sealing keys) and never hands them to a program. Programs get a
 * `CoProcessContext`: their pid, argv, capv, the instruction set, an allocator bounded to their
 * own grants, and the switcher calls for each of their threads.
 */
import { EventEmitter } from 'eventemitter3';
import * as E from 'fp-ts/lib/Either.js';
import { RegionAllocator } from './allocator.js';
import { Capability } from './capability.js';
import { sysError, type SysError } from './errno.js';
import { CapabilityFault } from './fault.js';
import { FutexTable } from './futex.js';
import { CODE_PERMS, CapMachine, codeBytes, type BootedMachine, type EntryCode } from './machine.js';
import { GrantHeap } from './grant-heap.js';
import { HostAuthority } from './host-authority.js';
import { Perm, PermSet } from './perms.js';
import { ROBUST_SLOTS, rollBackInMemory, type RobustRegistration } from './robust-word.js';
import { Scheduler, type Task, type WakeReason } from './scheduler.js';
import { RobustWord, wakeAddress, wordAt, type WordWindow } from './word-window.js';
import {
  Switcher,
  type AcceptBuffers,
  type CoacceptHandler,
  type CoacceptLoop,
  type CocallTracer,
  type SwitcherPair,
  type SwitcherThread,
} from './switcher.js';
import type { IsaMode } from './isa-mode.js';
import {
  loadProgram,
  type AddressSpaceApi,
  type CodeFactory,
  type CodeModule,
  type CoProcessApi,
  type CoProcessHandle,
  type CoProcessInfo,
  type CoThreadApi,
  type ExitStatus,
  type ProgramModule,
  type SpawnOptions,
} from './runtime-api.js';

export type { CoProcessHandle, CoProcessInfo, ExitStatus } from './runtime-api.js';

/** A program: what coexecve starts. A module exporting `main` (and optionally `name`) fits. */
export interface Program {
  readonly name?: string;
  readonly main: (ctx: CoProcessContext) => Promise<number | void> | number | void;
}

export interface AddressSpaceOptions {
  readonly memoryBytes?: number;
  readonly mode?: IsaMode;
  /** Seed for the scheduler's interleavings (omitted: FIFO). */
  readonly seed?: number;
  readonly clock?: 'virtual' | 'real';
  /** Older switcher semantics: capabilities inside cocall buffers lose their tags. */
  readonly stripTags?: boolean;
  /** Bytes reserved for kernel structures (SCBs, switcher code). */
  readonly kernelBytes?: number;
  /** Where co-processes' `print` goes (default: console.log). */
  readonly stdout?: (line: string) => void;
  /**
   * Bytes of dead co-processes' memory held before one revocation sweep returns it to the
   * heap (default: 1/16 of the heap). Allocation that would fail sweeps at once.
   */
  readonly reclaimQuarantineBytes?: number;
}

export interface AddressSpaceEvents {
  spawn: (info: CoProcessInfo) => void;
  exit: (status: ExitStatus) => void;
}

/** Thrown inside a co-process to unwind it on exit(); never escapes the address space. */
class CoProcessExit {
  constructor(readonly code: number) {}
}

interface ThreadRecord extends SwitcherThread {
  readonly name: string;
  readonly process: ProcessRecord;
  alive: boolean;
  task: Task;
  /**
   * Robust words this thread registered (robust-word.ts): word, wake word and rollback value
   * per slot, in place (a registration is made per coport operation: no object per call), and
   * a bit per slot in use.
   */
  robust: number[] | undefined;
  robustUsed: number;
}

interface ProcessRecord {
  readonly pid: number;
  readonly name: string;
  readonly parent: number;
  readonly argv: readonly string[];
  capv: Array<Capability | undefined>;
  readonly threads: Map<number, ThreadRecord>;
  readonly grants: Set<number>;
  state: 'running' | 'exited';
  exit?: ExitStatus;
  readonly exited: Promise<ExitStatus>;
  resolveExit: (s: ExitStatus) => void;
}

const DEFAULT_MEMORY = 16 << 20;
/** What futexWait answers when a word already differs (one settled promise, shared). */
const CHANGED: Promise<'changed'> = Promise.resolve('changed');
/** What futexWait answers a thread whose co-process has ended. */
const CLOSED: Promise<'closed'> = Promise.resolve('closed');
const SCB_BYTES = 256;

export class AddressSpace extends EventEmitter<AddressSpaceEvents> implements AddressSpaceApi {
  readonly runtime = 'inline' as const;
  readonly machine: CapMachine;
  readonly scheduler: Scheduler;
  readonly switcher: Switcher;
  /** @internal */
  readonly futex: FutexTable;
  readonly #booted: BootedMachine;
  readonly #kernelHeap: RegionAllocator;
  readonly #heap: GrantHeap;
  readonly #processes = new Map<number, ProcessRecord>();
  /** Memory of exited co-processes: revoked for registers at exit, swept and reused in batches. */
  readonly #authority: HostAuthority;
  /** @internal */
  readonly stdout: (line: string) => void;
  #nextPid = 100;
  #nextTid = 100000;

  private constructor(options: AddressSpaceOptions) {
    super();
    const memoryBytes = options.memoryBytes ?? DEFAULT_MEMORY;
    this.stdout = options.stdout ?? ((line) => console.log(line));
    // Every co-process runs on this one JS thread: the memory is exclusive (no worker maps it).
    this.#booted = CapMachine.boot({ memoryBytes, mode: options.mode ?? 'v9', exclusive: true });
    this.machine = this.#booted.machine;
    this.#authority = new HostAuthority(this.#booted);
    this.scheduler = new Scheduler({
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      clock: options.clock ?? 'virtual',
    });
    this.futex = new FutexTable(this.scheduler);
    const kernelBytes = options.kernelBytes ?? Math.min(1 << 20, memoryBytes / 4);
    // Page 0 stays unmapped, as NULL-adjacent memory should.
    this.#kernelHeap = new RegionAllocator(4096, kernelBytes);
    this.#heap = new GrantHeap(this.#booted, new RegionAllocator(kernelBytes, memoryBytes), options.reclaimQuarantineBytes ?? GrantHeap.defaultQuarantine(memoryBytes - kernelBytes));
    const kernelTypes = this.#booted.roots.kernelTypes;
    const key = (): Capability =>
      E.getOrElseW(() => {
        throw new Error('kernel otypes exhausted');
      })(kernelTypes.allocate(1));
    const m = this.machine;
    this.switcher = new Switcher({
      machine: m,
      memory: this.#booted.memory,
      scheduler: this.scheduler,
      allocateScb: () => this.#kernelRegion(SCB_BYTES, PermSet.DATA | Perm.CINVOKE),
      entry: this.#kernelRegion(64, Perm.GLOBAL | Perm.EXECUTE | Perm.LOAD | Perm.CINVOKE),
      pairKey: key(),
      targetKey: key(),
      stripTags: options.stripTags ?? false,
    });
    this.switcher.onCalleeFault = (thread, error) => {
      const rec = this.#threadRecord(thread);
      if (rec !== undefined) this.#terminate(rec.process, { reason: 'fault', code: 128 + 34, error });
    };
  }

  static create(options: AddressSpaceOptions = {}): AddressSpace {
    return new AddressSpace(options);
  }

  #threadRecord(t: SwitcherThread): ThreadRecord | undefined {
    return this.#processes.get(t.pid)?.threads.get(t.tid);
  }

  #kernelRegion(bytes: number, perms: number): Capability {
    const r = this.#kernelHeap.allocate(bytes, 0);
    if (r === undefined) throw new Error('kernel memory exhausted');
    this.#booted.memory.fill(r.base, r.length, 0);
    return this.machine.restrict(this.#booted.roots.memory, BigInt(r.base), BigInt(r.length), perms);
  }

  /** Grant a fresh, zeroed region to `pid`; the capability has exactly its bounds. */
  #grant(pid: number, bytes: number, perms: number): E.Either<SysError, Capability> {
    const r = this.#heap.allocate(bytes, pid);
    if (r === undefined) return E.left(sysError('ENOMEM', 'malloc', `no room for ${bytes} bytes`));
    this.#processes.get(pid)?.grants.add(r.base);
    const cap = this.machine.restrict(this.#booted.roots.memory, BigInt(r.base), BigInt(r.length), perms & (PermSet.DATA | Perm.CINVOKE));
    return E.right(cap);
  }

  /** Bytes of exited co-processes' memory waiting for the next revocation sweep. */
  get reclaimPending(): number {
    return this.#heap.pending;
  }

  /**
   * Start `program` as a colocated co-process. `capv` is its capability vector (a copy is
   * taken). Runs when the scheduler gets to it (`run()`).
   */
  spawn(program: Program | ProgramModule, options: SpawnOptions = {}): CoProcessHandle {
    const pid = this.#nextPid++;
    const parent = options.parent === undefined ? undefined : this.#processes.get(options.parent);
    if (parent !== undefined && parent.state === 'exited') {
      // A dead process cannot exec: the child never starts.
      const status: ExitStatus = { pid, code: 128 + 9, reason: 'killed' };
      return { pid, exited: Promise.resolve(status) };
    }
    let resolveExit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => (resolveExit = r));
    const name = options.name ?? program.name ?? `coproc-${pid}`;
    const proc: ProcessRecord = {
      pid,
      name,
      parent: options.parent ?? 0,
      argv: Object.freeze([...(options.argv ?? [name])]),
      capv: [...(options.capv ?? [])].map((c) => (Capability.is(c) ? c : undefined)),
      threads: new Map(),
      grants: new Set(),
      state: 'running',
      exited,
      resolveExit,
    };
    this.#processes.set(pid, proc);
    this.#startThread(proc, 'main', async (ctx) => {
      const main = 'main' in program ? program.main : await loadProgram(program);
      const code = await main(ctx.process);
      this.#terminate(proc, { reason: 'returned', code: typeof code === 'number' ? code : 0 });
    });
    this.emit('spawn', this.#info(proc));
    return { pid, exited };
  }

  #startThread(proc: ProcessRecord, name: string, body: (t: { thread: CoThread; process: CoProcessContext }) => Promise<void>): CoThread {
    const tid = this.#nextTid++;
    const rec = { pid: proc.pid, tid, name, process: proc, alive: true, robust: undefined, robustUsed: 0 } as ThreadRecord;
    const thread = new CoThread(this, rec);
    proc.threads.set(tid, rec);
    rec.task = this.scheduler.spawn(`${proc.name}[${proc.pid}]/${name}`, async () => {
      try {
        await body({ thread, process: new CoProcessContext(this, proc, thread) });
      } catch (e) {
        if (e instanceof CoProcessExit) this.#terminate(proc, { reason: 'exit', code: e.code });
        else this.#terminate(proc, { reason: 'fault', code: e instanceof CapabilityFault ? 128 + 34 : 1, error: e });
      } finally {
        rec.alive = false;
        this.switcher.threadExited(rec);
        this.#rollBackRobust(rec);
      }
    });
    return thread;
  }

  /** A thread ended: roll back the robust words it still owns (robust-word.ts). */
  #rollBackRobust(rec: ThreadRecord): void {
    const regs: RobustRegistration[] = [];
    const r = rec.robust;
    if (r !== undefined) {
      for (let slot = 0; slot < ROBUST_SLOTS; slot++) {
        if ((rec.robustUsed & (1 << slot)) !== 0) regs.push({ word: r[3 * slot]!, wake: r[3 * slot + 1]!, rollback: r[3 * slot + 2]! });
      }
    }
    rec.robust = undefined;
    rec.robustUsed = 0;
    if (regs.length > 0) rollBackInMemory(this.#booted.memory, regs, rec.tid, (a) => this.futex.wake(a));
  }

  /** @internal used by contexts */
  newThread(proc: ProcessRecord, name: string, fn: (t: CoThread) => Promise<void> | void): CoThread {
    return this.#startThread(proc, name, async ({ thread }) => {
      await fn(thread);
    });
  }

  /** @internal */
  grant(pid: number, bytes: number, perms: number): E.Either<SysError, Capability> {
    return this.#grant(pid, bytes, perms);
  }

  /** @internal Load code for `pid`: one 16-byte entry per function, EXECUTE|CINVOKE caps. */
  loadCode<K extends string>(pid: number, names: readonly K[], code: Readonly<Record<K, EntryCode>>): E.Either<SysError, Record<K, Capability>> {
    const r = this.#heap.allocate(codeBytes(names.length), pid);
    if (r === undefined) return E.left(sysError('ENOMEM', 'loadCode', 'no room for code'));
    this.#processes.get(pid)?.grants.add(r.base);
    const text = this.machine.restrict(this.#booted.roots.memory, BigInt(r.base), BigInt(r.length), CODE_PERMS);
    return E.right(this.machine.installEntries(text, names, code));
  }

  #terminate(proc: ProcessRecord, how: Omit<ExitStatus, 'pid'>): void {
    if (proc.state === 'exited') return;
    proc.state = 'exited';
    const status: ExitStatus = { pid: proc.pid, ...how };
    proc.exit = status;
    for (const t of proc.threads.values()) {
      t.alive = false;
      this.switcher.threadExited(t);
      this.#rollBackRobust(t);
      t.task.daemon = true;
      // Whatever the thread blocks on ends now; its next system call fails.
      this.scheduler.interrupt(t.task, 'closed');
    }
    this.#heap.reclaim(proc.grants);
    proc.resolveExit(status);
    this.emit('exit', status);
  }

  /** Host-only: SEAL|UNSEAL over `count` fresh kernel otypes (see HostAuthority). */
  mintTypes(count: number): Capability {
    return this.#authority.mintTypes(count);
  }

  /** Host-only: an unbacked token space (see HostAuthority). */
  mintTokenSpace(bytes: number): Capability {
    return this.#authority.mintTokenSpace(bytes);
  }

  /** Host-only: a fresh zeroed region of the heap, to hand a co-process through its capv. */
  allocateShared(bytes: number): Capability {
    const r = this.#heap.allocate(bytes, 0);
    if (r === undefined) throw new Error(`no room for ${bytes} bytes`);
    return this.#authority.region(r.base, r.length);
  }

  /**
   * Host-only: wait until the word at cap+offset is not `expected` (co-processes run on this
   * thread, so the host polls between scheduler turns).
   */
  async waitWord(cap: Capability, offset: number, expected: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.machine.loadI32(cap, offset) === expected) {
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setImmediate(r));
    }
    return true;
  }

  wakeWord(cap: Capability, offset: number): number {
    this.machine.loadI32(cap, offset);
    return this.futex.wake(cap.addressNumber + offset);
  }

  /** Run until every co-process thread has finished or is parked serving calls. */
  run(): Promise<void> {
    return this.scheduler.run();
  }

  /** End every co-process (killed) and let their threads unwind. */
  async shutdown(): Promise<void> {
    for (const p of this.#processes.values()) this.#terminate(p, { reason: 'killed', code: 128 + 9 });
    this.scheduler.wakeEverything('closed');
    await this.scheduler.run();
  }

  kill(pid: number): E.Either<SysError, void> {
    const p = this.#processes.get(pid);
    if (p === undefined || p.state === 'exited') return E.left(sysError('ESRCH', 'kill', `no process ${pid}`));
    this.#terminate(p, { reason: 'killed', code: 128 + 9 });
    return E.right(undefined);
  }

  #info(p: ProcessRecord): CoProcessInfo {
    return {
      pid: p.pid,
      name: p.name,
      parent: p.parent,
      argv: p.argv,
      state: p.state,
      threads: [...p.threads.values()].map((t) => ({ tid: t.tid, name: t.name, state: t.alive ? t.task.state : 'exited' })),
      capc: p.capv.length,
      granted: p.grants.size,
      ...(p.exit === undefined ? {} : { exit: p.exit }),
    };
  }

  /** The tracer runs inside each cocall, on the caller's stack (callees nest within it). */
  traceCocalls(tracer: CocallTracer | undefined): void {
    this.switcher.tracer = tracer;
  }

  /** Every co-process, for tools (`comsg ps`). */
  processes(): CoProcessInfo[] {
    return [...this.#processes.values()].map((p) => this.#info(p));
  }

  /** @internal the exit promise of a process, if it exists. */
  exitedOf(pid: number): Promise<ExitStatus> | undefined {
    return this.#processes.get(pid)?.exited;
  }

  /** A process's capv, for tools (`comsg capv`). */
  capvOf(pid: number): ReadonlyArray<Capability | undefined> | undefined {
    return this.#processes.get(pid)?.capv.slice();
  }

  /** @internal Parked in coaccept: the thread no longer keeps `run()` alive. */
  markDaemon(rec: ThreadRecord, daemon: boolean): void {
    rec.task.daemon = daemon;
  }

  /** @internal */
  exitSignal(code: number): never {
    throw new CoProcessExit(code);
  }
}

/**
 * One co-process thread's system interface. Only the code running on this thread is given
 * this object; the switcher checks every pair and SCB against it.
 */
export class CoThread implements CoThreadApi {
  /** Threads take turns at awaits here. */
  readonly preemptible = false;
  readonly #space: AddressSpace;
  readonly #rec: ThreadRecord;

  /** @internal */
  constructor(space: AddressSpace, rec: ThreadRecord) {
    this.#space = space;
    this.#rec = rec;
  }

  get pid(): number {
    return this.#rec.pid;
  }
  get tid(): number {
    return this.#rec.tid;
  }
  get name(): string {
    return this.#rec.name;
  }
  get alive(): boolean {
    return this.#rec.alive;
  }

  cosetup(what: number): E.Either<SysError, SwitcherPair> {
    return this.#space.switcher.cosetup(this.#rec, what);
  }
  coregister(name?: string): E.Either<SysError, Capability> {
    return this.#space.switcher.coregister(this.#rec, name);
  }
  colookup(name: string): E.Either<SysError, Capability> {
    return this.#space.switcher.colookup(name);
  }

  /** Fast cocall: copies `outlen` bytes out, returns the bytes received into `inbuf`. */
  cocall(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    return this.#space.switcher.cocall(this.#rec, target, outbuf, outlen, inbuf, inlen);
  }
  cocallSlow(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    return this.#space.switcher.cocallSlow(this.#rec, target, outbuf, outlen, inbuf, inlen);
  }

  /** cocall through an explicit cosetup pair — which must be this thread's own. */
  cocallWith(pair: SwitcherPair, target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    const owner = this.#space.switcher.pairOwner(this.#rec, pair, 'cocall');
    if ('_tag' in owner) return E.left(owner);
    return this.cocall(target, outbuf, outlen, inbuf, inlen);
  }

  /**
   * Serve calls until the co-process exits or `stop()` is called; resolves when serving ends.
   * While serving, the thread is parked (calls run on the callers' stacks).
   */
  async coaccept(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers): Promise<E.Either<SysError, void>> {
    return this.#serve(handler, buffers, false);
  }
  async coacceptSlow(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers): Promise<E.Either<SysError, void>> {
    return this.#serve(handler, buffers, true);
  }

  /** Start serving and return at once with a `stop` function (for tools and tests). */
  startAccepting(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers, slow = false): E.Either<SysError, { stopped: Promise<void>; stop: () => void }> {
    return this.#space.switcher.coaccept(this.#rec, handler, buffers, slow);
  }

  async #serve(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers, slow: boolean): Promise<E.Either<SysError, void>> {
    const r = this.#space.switcher.coaccept(this.#rec, handler, buffers, slow);
    if (E.isLeft(r)) return r;
    await this.park(r.right.stopped, r.right.stop);
    return E.right(undefined);
  }

  /**
   * Park this thread (as a daemon: it does not keep `run()` going) until `until` settles or
   * the co-process ends; `onClosed` runs in the latter case. Services use it to wait while
   * their handlers run on callers' stacks.
   */
  async park(until: Promise<unknown>, onClosed?: () => void): Promise<WakeReason> {
    this.#space.markDaemon(this.#rec, true);
    const why = await this.#space.scheduler.block(this.#rec.task, undefined, (settle) => {
      void until.then(
        () => settle('woken'),
        () => settle('woken'),
      );
      return () => {};
    });
    this.#space.markDaemon(this.#rec, false);
    if (why !== 'woken') onClosed?.();
    return why;
  }

  cogetpid(cookie: Capability): E.Either<SysError, number> {
    return this.#space.switcher.cogetpid(cookie);
  }

  /** Block until `target` accepts (after EAGAIN), at most `timeoutMs`. */
  waitForTarget(target: Capability, timeoutMs: number): Promise<E.Either<SysError, void>> {
    return this.#space.switcher.waitAvailable(this.#rec, target, timeoutMs);
  }

  /**
   * Block until one of the words (each named by a capability with LOAD and an offset) no
   * longer holds its expected value and its writer wakes it, or `timeoutMs` passes (negative
   * or omitted: no limit). Returns `changed` at once if a word already differs.
   */
  futexWait(words: ReadonlyArray<{ readonly cap: Capability; readonly offset: number; readonly expected: number }>, timeoutMs?: number): Promise<WakeReason | 'changed'> {
    // Not an async function: a wait is a context switch inline, and its promise is the
    // scheduler's own — an async wrapper would add a promise and a frame to every switch.
    // A thread whose co-process ended does not wait again: the interrupt that ended its wait
    // is lost if something else (a robust word's rollback) woke it first, and a loop that
    // then re-checks and sleeps would hold its place until the address space shuts down.
    if (!this.#rec.alive) return CLOSED;
    const m = this.#space.machine;
    if (words.length === 1) {
      // The common wait, one word: no array of addresses.
      const w = words[0]!;
      try {
        if (m.loadI32(w.cap, w.offset) !== w.expected) return CHANGED;
      } catch (e) {
        return Promise.reject(e);
      }
      return this.#space.futex.waitOne(this.#rec.task, w.cap.addressNumber + w.offset, timeoutMs);
    }
    const addresses: number[] = [];
    try {
      for (const w of words) {
        if (m.loadI32(w.cap, w.offset) !== w.expected) return CHANGED;
        addresses.push(w.cap.addressNumber + w.offset);
      }
    } catch (e) {
      return Promise.reject(e); // a bad word faults as the awaited call, as before
    }
    return this.#space.futex.wait(this.#rec.task, addresses, timeoutMs);
  }

  /** Wake every thread waiting on the word at cap+offset (needs LOAD on it). */
  futexWake(at: Capability | WordWindow, offset: number): number {
    return this.#space.futex.wake(wakeAddress(this.#space.machine, at, offset));
  }

  /** One thread runs at a time here: nobody can change the word while this one polls. */
  spinWhile(_at: WordWindow, _offset: number, _seen: number): boolean {
    return false;
  }

  robustEnter(at: Capability | WordWindow, offset: number, rollback: number, wakeOffset: number): number {
    return this.#register(wordAt(this.#space.machine, at, offset), wordAt(this.#space.machine, at, wakeOffset), rollback);
  }
  robustEnterWord(word: RobustWord, rollback: number): number {
    return this.#register(RobustWord.word(word), RobustWord.wake(word), rollback);
  }
  #register(word: number, wake: number, rollback: number): number {
    const rec = this.#rec;
    const slots = (rec.robust ??= new Array<number>(3 * ROBUST_SLOTS).fill(0));
    const used = rec.robustUsed;
    for (let i = 0; i < ROBUST_SLOTS; i++) {
      if ((used & (1 << i)) === 0) {
        slots[3 * i] = word;
        slots[3 * i + 1] = wake;
        slots[3 * i + 2] = rollback;
        rec.robustUsed = used | (1 << i);
        return i;
      }
    }
    return -1;
  }
  robustLeave(slot: number): void {
    if (slot >= 0 && slot < ROBUST_SLOTS) this.#rec.robustUsed &= ~(1 << slot);
  }

  /** Milliseconds on the address space's clock (for deadlines). */
  now(): number {
    return this.#space.scheduler.now();
  }

  yield(): Promise<WakeReason> {
    return this.#space.scheduler.yield(this.#rec.task);
  }
  sleep(ms: number): Promise<WakeReason> {
    return this.#space.scheduler.sleep(this.#rec.task, ms);
  }
  /** @internal the scheduler task behind this thread (for blocking primitives). */
  get task(): Task {
    return this.#rec.task;
  }
}

/** What a program's `main` receives: its identity, authority and system calls. */
export class CoProcessContext implements CoProcessApi {
  readonly runtime = 'inline' as const;
  readonly #space: AddressSpace;
  readonly #proc: ProcessRecord;
  /** The thread running `main`. */
  readonly thread: CoThread;

  /** @internal */
  constructor(space: AddressSpace, proc: ProcessRecord, thread: CoThread) {
    this.#space = space;
    this.#proc = proc;
    this.thread = thread;
  }

  get pid(): number {
    return this.#proc.pid;
  }
  get name(): string {
    return this.#proc.name;
  }
  get argv(): readonly string[] {
    return this.#proc.argv;
  }
  /** The instruction set (holding it grants nothing). */
  get machine(): CapMachine {
    return this.#space.machine;
  }
  /** The capability vector (a copy; change it with capvset). */
  get capv(): ReadonlyArray<Capability | undefined> {
    return this.#proc.capv.slice();
  }

  /** capvset(3): store `cap` at `index`, growing the vector. */
  capvset(index: number, cap: Capability | undefined): E.Either<SysError, void> {
    if (!Number.isInteger(index) || index < 0 || index > 4096) return E.left(sysError('EINVAL', 'capvset', `bad index ${index}`));
    if (cap !== undefined && !Capability.is(cap)) return E.left(sysError('EINVAL', 'capvset', 'not a capability'));
    while (this.#proc.capv.length <= index) this.#proc.capv.push(undefined);
    this.#proc.capv[index] = cap;
    return E.right(undefined);
  }

  /** A fresh zeroed region of at least `bytes`, with at most `perms` (default read/write data). */
  malloc(bytes: number, perms: number = PermSet.DATA): E.Either<SysError, Capability> {
    if (!Number.isInteger(bytes) || bytes < 0) return E.left(sysError('EINVAL', 'malloc', `bad size ${bytes}`));
    return this.#space.grant(this.#proc.pid, bytes, perms);
  }

  /**
   * Load code into this co-process: each function gets an entry address and comes back as an
   * unsealed EXECUTE|CINVOKE capability. Seal it with a type you own to hand out an entry
   * that runs on the caller's thread when CInvoked with a data capability of the same type.
   * Every thread shares this machine, so it is installed once and runs everywhere.
   */
  loadCode<K extends string>(code: CodeModule<K>, factory: CodeFactory<K>): E.Either<SysError, Record<K, Capability>> {
    return this.#space.loadCode(this.#proc.pid, code.names, factory(this.machine, code.params));
  }

  /** Inline: code loaded by any co-process already runs on every thread. */
  linkCode(_entry: Capability): Promise<E.Either<SysError, void>> {
    return Promise.resolve(E.right(undefined));
  }

  /** A promise of `pid`'s exit status (kqueue NOTE_EXIT without blocking), or undefined for an unknown pid. */
  exitOf(pid: number): Promise<ExitStatus> | undefined {
    return this.#space.exitedOf(pid);
  }

  /** Start another thread in this co-process. */
  spawnThread(name: string, fn: (thread: CoThread) => Promise<void> | void): CoThread {
    return this.#space.newThread(this.#proc, name, fn);
  }

  /** coexecve: start `program` colocated, inheriting this process's capv. */
  coexecve(program: Program | ProgramModule, argv?: readonly string[]): CoProcessHandle {
    return this.#space.spawn(program, { capv: this.#proc.capv, parent: this.pid, ...(argv === undefined ? {} : { argv }) });
  }

  /** coexecvec: start `program` colocated with a new capv. */
  coexecvec(program: Program | ProgramModule, argv: readonly string[] | undefined, capv: ReadonlyArray<Capability | undefined>): CoProcessHandle {
    return this.#space.spawn(program, { capv, parent: this.pid, ...(argv === undefined ? {} : { argv }) });
  }

  /** End this co-process with `code` (unwinds the calling thread). */
  exit(code = 0): never {
    return this.#space.exitSignal(code);
  }

  /**
   * Wait until process `pid` exits (any process of the address space, as kqueue's NOTE_EXIT
   * allows): its exit status, ESRCH for an unknown pid, ETIMEDOUT after `timeoutMs` (negative
   * or omitted: no limit). The waiting thread is parked and keeps `run()` going only if
   * `daemon` is false.
   */
  async waitpid(pid: number, options: { timeoutMs?: number; daemon?: boolean; thread?: CoThread } = {}): Promise<E.Either<SysError, ExitStatus>> {
    const exited = this.#space.exitedOf(pid);
    if (exited === undefined) return E.left(sysError('ESRCH', 'waitpid', `no process ${pid}`));
    let status: ExitStatus | undefined;
    void exited.then((s) => (status = s));
    await null;
    if (status !== undefined) return E.right(status);
    const task = (options.thread ?? this.thread).task;
    if (options.daemon === true) task.daemon = true;
    const why = await this.#space.scheduler.block(task, options.timeoutMs, (settle) => {
      void exited.then(() => settle('woken'));
      return () => {};
    });
    if (options.daemon === true) task.daemon = false;
    // A thread whose own process died is not told about others any more.
    if (!(options.thread ?? this.thread).alive || this.#proc.state === 'exited') {
      return E.left(sysError('EINTR', 'waitpid', 'the waiting process has exited'));
    }
    if (status !== undefined) return E.right(status);
    return E.left(sysError(why === 'timeout' ? 'ETIMEDOUT' : why === 'deadlock' ? 'EDEADLK' : 'EINTR', 'waitpid', `waiting for ${pid}: ${why}`));
  }

  /** Write a line to the address space's stdout. */
  print(...parts: unknown[]): void {
    this.#space.stdout(parts.map((p) => (typeof p === 'string' ? p : String(p))).join(' '));
  }

  /** Milliseconds on the address space's clock (virtual by default). */
  now(): number {
    return this.#space.scheduler.now();
  }
}
