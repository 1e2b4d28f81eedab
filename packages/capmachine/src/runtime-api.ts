/**
 * What a co-process program sees, independent of the runtime that hosts it. The inline
 * runtime (`AddressSpace`: every co-process on one JS thread) and the threads runtime
 * (`ThreadedAddressSpace`: every co-process thread on its own worker_thread over the same
 * SharedArrayBuffers) both implement these interfaces, so a program written against them
 * runs unchanged under either.
 */
import type * as E from 'fp-ts/lib/Either.js';
import type { Capability } from './capability.js';
import type { SysError } from './errno.js';
import type { CapMachine } from './machine.js';
import type { WakeReason } from './scheduler.js';
import type { AcceptBuffers, CoacceptHandler, CoacceptLoop, CocallTracer, SwitcherPair } from './switcher.js';
import type { EntryCode } from './machine.js';
import type { Program } from './address-space.js';
import type { RobustWord, WordWindow } from './word-window.js';

export type RuntimeKind = 'inline' | 'threads';

/**
 * A program named by module, so that a worker thread can load it: the module's `export`
 * (default `main`) is called with the co-process context. Both runtimes accept it.
 */
export interface ProgramModule {
  readonly module: string | URL;
  readonly export?: string;
  readonly name?: string;
}

export interface ExitStatus {
  readonly pid: number;
  readonly code: number;
  /** Why it ended: returned from main, called exit, or died of a fault. */
  readonly reason: 'returned' | 'exit' | 'fault' | 'killed';
  readonly error?: unknown;
}

/** What exited: a handle to wait on a spawned co-process. */
export interface CoProcessHandle {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
}

export interface CoProcessInfo {
  readonly pid: number;
  readonly name: string;
  readonly parent: number;
  readonly argv: readonly string[];
  readonly state: 'running' | 'exited';
  readonly threads: ReadonlyArray<{ tid: number; name: string; state: string }>;
  readonly capc: number;
  readonly granted: number;
  readonly exit?: ExitStatus;
}

export interface SpawnOptions {
  readonly argv?: readonly string[];
  readonly capv?: ReadonlyArray<Capability | undefined>;
  readonly parent?: number;
  readonly name?: string;
}

/** One co-process thread's system interface. */
export interface CoThreadApi {
  readonly pid: number;
  readonly tid: number;
  readonly name: string;
  readonly alive: boolean;
  /**
   * Whether other threads run between this thread's steps, and it can die between two of
   * them (a terminated worker): true on the threads runtime. Inline, a thread runs alone until
   * it awaits, so a word it takes and gives back within one synchronous stretch needs no
   * robust registration there.
   */
  readonly preemptible: boolean;
  cosetup(what: number): E.Either<SysError, SwitcherPair>;
  coregister(name?: string): E.Either<SysError, Capability>;
  colookup(name: string): E.Either<SysError, Capability>;
  cocall(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number>;
  cocallSlow(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number>;
  /** Serve calls until the co-process exits or a loop-form handler returns. */
  coaccept(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers): Promise<E.Either<SysError, void>>;
  coacceptSlow(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers): Promise<E.Either<SysError, void>>;
  cogetpid(cookie: Capability): E.Either<SysError, number>;
  /** Block until `target` accepts (after EAGAIN), at most `timeoutMs`. */
  waitForTarget(target: Capability, timeoutMs: number): Promise<E.Either<SysError, void>>;
  /**
   * Start serving and return at once: handlers run as calls arrive while this thread's
   * program goes on (services hand out their target, then park). `stop` ends the session.
   */
  startAccepting(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers, slow?: boolean): E.Either<SysError, AcceptSession>;
  /**
   * Park until `until` settles or the co-process ends (`onClosed` runs then). A parked thread
   * does not keep `run()` going: services park while their handlers serve.
   */
  park(until: Promise<unknown>, onClosed?: () => void): Promise<WakeReason>;
  /** Wait while every word holds its expected value; a wake may be spurious, so re-check. */
  futexWait(words: ReadonlyArray<{ readonly cap: Capability; readonly offset: number; readonly expected: number }>, timeoutMs?: number): Promise<WakeReason | 'changed'>;
  /**
   * Wake the word's waiters. Change the word with an atomic operation (`fetchAddI32`,
   * `compareExchangeI32`) first: on the threads runtime the wake is skipped when nobody
   * sleeps, and only an atomic update is ordered before that check.
   */
  futexWake(at: Capability | WordWindow, offset: number): number;
  /**
   * Poll the word at `at`+offset, without sleeping, while it holds `seen`, for at most the
   * runtime's spin budget: true once it differs. Only another thread running in parallel can
   * change it meanwhile, so where none can (the inline runtime) this returns false at once.
   * A waiter polls the data word itself before it counts itself on a futex (see ipcd's
   * `publish`): a peer that streams then never pays for a wake-up.
   */
  spinWhile(at: WordWindow, offset: number, seen: number): boolean;
  /**
   * Register a robust word (see robust-word.ts) before the CAS that makes this thread its
   * owner: if the thread ends while the word at cap+offset still names it (`ownerOf`), the
   * runtime stores `rollback` there and bumps and wakes the word at cap+wakeOffset. Needs
   * LOAD and STORE on both. Returns the slot to leave with, or -1 when this thread's
   * ROBUST_SLOTS are all taken (the word then goes unprotected).
   */
  robustEnter(at: Capability | WordWindow, offset: number, rollback: number, wakeOffset: number): number;
  /**
   * robustEnter for a word a WordWindow checked once (`WordWindow.robust`): the same
   * registration, minus two address derivations per call — a coport's lock is taken once per
   * message (on threads about a tenth of a COCHANNEL send went there).
   */
  robustEnterWord(word: RobustWord, rollback: number): number;
  /** Leave a registration, after the CAS that gave ownership up (-1: nothing to do). */
  robustLeave(slot: number): void;
  now(): number;
  yield(): Promise<WakeReason>;
  sleep(ms: number): Promise<WakeReason>;
}

/** A running accept session (see `CoThreadApi.startAccepting`). */
export interface AcceptSession {
  readonly stopped: Promise<void>;
  readonly stop: () => void;
}

/** Options of `waitpid`. */
export interface WaitpidOptions {
  /** Negative or omitted: no limit. */
  readonly timeoutMs?: number;
  /** The waiting thread does not keep `run()` going (supervisors, watchers). */
  readonly daemon?: boolean;
  /** The thread that waits (default: the main thread). */
  readonly thread?: CoThreadApi;
}

/**
 * Code a co-process lends others through sealed entries (ipcd's coport data path): a module
 * whose `export` builds the entries' functions from a parameter block in memory. Every
 * runtime installs it in the loading co-process at once; the threads runtime also records it
 * so another worker can link it (`linkCode`) before its first CInvoke.
 */
export interface CodeModule<K extends string> {
  readonly module: string | URL;
  readonly export: string;
  /** Entry names, in entry order. */
  readonly names: readonly K[];
  /** The parameter block (LOAD|LOAD_CAP): what the code needs besides its caller's arguments. */
  readonly params: Capability;
}
export type CodeFactory<K extends string> = (machine: CapMachine, params: Capability) => Record<K, EntryCode>;

/** What a program's `main` receives: its identity, authority and system calls. */
export interface CoProcessApi {
  readonly pid: number;
  readonly name: string;
  readonly argv: readonly string[];
  readonly machine: CapMachine;
  readonly capv: ReadonlyArray<Capability | undefined>;
  readonly thread: CoThreadApi;
  readonly runtime: RuntimeKind;
  capvset(index: number, cap: Capability | undefined): E.Either<SysError, void>;
  malloc(bytes: number, perms?: number): E.Either<SysError, Capability>;
  /** coexecve: start a co-process that inherits this one's capv. */
  coexecve(program: ProgramModule | Program, argv?: readonly string[]): CoProcessHandle;
  /** Start a co-process with a new capv. The threads runtime starts programs by module only. */
  coexecvec(program: ProgramModule | Program, argv: readonly string[] | undefined, capv: ReadonlyArray<Capability | undefined>): CoProcessHandle;
  waitpid(pid: number, options?: WaitpidOptions): Promise<E.Either<SysError, ExitStatus>>;
  /** `pid`'s exit status once it exits (kqueue NOTE_EXIT without blocking a thread). */
  exitOf(pid: number): Promise<ExitStatus> | undefined;
  /** Another thread of this co-process, sharing its heap; it runs `fn` and ends when `fn` does. */
  spawnThread(name: string, fn: (thread: CoThreadApi) => Promise<void> | void): CoThreadApi;
  /** Load code (see CodeModule); `factory` is the module's export, already imported by the caller. */
  loadCode<K extends string>(code: CodeModule<K>, factory: CodeFactory<K>): E.Either<SysError, Record<K, Capability>>;
  /** Make the code behind `entry` runnable on this thread (a no-op where all threads share one machine). */
  linkCode(entry: Capability): Promise<E.Either<SysError, void>>;
  exit(code?: number): never;
  print(...parts: unknown[]): void;
  now(): number;
}

/** The host's view of an address space, whichever runtime runs it. */
export interface AddressSpaceApi {
  readonly runtime: RuntimeKind;
  readonly machine: CapMachine;
  /** Bytes of exited co-processes' memory revoked and waiting for the next sweep before reuse. */
  readonly reclaimPending: number;
  /** Host-only (boot code, tools): a fresh zeroed region to hand a co-process through its capv. */
  allocateShared(bytes: number): Capability;
  /** Host-only: SEAL|UNSEAL over `count` fresh otypes (boot code minting daemon authority). */
  mintTypes(count: number): Capability;
  /** Host-only: an unbacked token space of `bytes` (sealed handles' addresses). */
  mintTokenSpace(bytes: number): Capability;
  /**
   * Host-only: wait (without blocking the event loop, but keeping it alive) until the word at
   * cap+offset is not `expected`; false after `timeoutMs`.
   */
  waitWord(cap: Capability, offset: number, expected: number, timeoutMs: number): Promise<boolean>;
  /** Host-only: wake the co-process threads waiting on the word (change it atomically first). */
  wakeWord(cap: Capability, offset: number): number;
  capvOf(pid: number): ReadonlyArray<Capability | undefined> | undefined;
  spawn(program: ProgramModule, options?: SpawnOptions): CoProcessHandle;
  /** Resolves when every co-process has exited or is parked serving calls. */
  run(): Promise<void>;
  /** End every co-process; for threads, no worker is left running afterwards. */
  shutdown(): Promise<void>;
  kill(pid: number): E.Either<SysError, void>;
  processes(): CoProcessInfo[];
  /**
   * Host-only: observe every cocall (fast and slow) of every co-process; undefined stops.
   * Inline the tracer runs inside each call; on threads it runs on the host thread shortly
   * after, in call order, with snapshots of the buffers taken at the call.
   */
  traceCocalls(tracer: CocallTracer | undefined): void;
  on(event: 'exit', fn: (status: ExitStatus) => void): unknown;
}

/** Load a ProgramModule's entry function (shared by both runtimes). */
export async function loadProgram(program: ProgramModule): Promise<(ctx: CoProcessApi) => unknown> {
  const spec = program.module instanceof URL ? program.module.href : program.module;
  const mod = (await import(spec)) as Record<string, unknown>;
  const name = program.export ?? 'main';
  const fn = mod[name] ?? (mod['default'] as Record<string, unknown> | undefined)?.[name];
  if (typeof fn !== 'function') throw new TypeError(`${spec} has no exported function "${name}"`);
  return fn as (ctx: CoProcessApi) => unknown;
}
