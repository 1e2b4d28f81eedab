/**
 * The threads runtime's kernel thread (the Node main thread): it owns the address space's
 * physical memory and allocators, starts one worker_thread per co-process thread over the
 * same SharedArrayBuffers, answers the workers' control-plane RPCs (grants, names, spawn,
 * waitpid), routes cocall_slow by postMessage, and turns a worker's death into ENOLINK for its
 * callers. It never spins: the cocall fast path runs between workers in shared memory.
 */
import { EventEmitter } from 'eventemitter3';
import * as E from 'fp-ts/lib/Either.js';
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { RegionAllocator } from '../allocator.js';
import type { Capability } from '../capability.js';
import { Errno, sysError, type SysError } from '../errno.js';
import { CODE_ENTRY_BYTES, CapMachine, type BootedMachine } from '../machine.js';
import type { IsaMode } from '../isa-mode.js';
import { Perm, PermSet } from '../perms.js';
import type { AddressSpaceApi, CoProcessHandle, CoProcessInfo, ExitStatus, ProgramModule, SpawnOptions } from '../runtime-api.js';
import {
  CAPV_BLOCK_BYTES,
  CAPV_SLOTS,
  CAPV_STAGE,
  CLAIM_ABANDONED,
  O_ABANDONED_SEQ,
  D_RPC,
  D_SLOW,
  D_TICKET,
  D_WORDS,
  O_CLAIM,
  O_INBUF,
  O_INLEN,
  O_MADE,
  O_ROBUST,
  ROBUST_SLOT_BYTES,
  O_MAGIC,
  O_OUTBUF,
  O_OWNER_PID,
  O_OWNER_TID,
  O_REQ,
  O_RESP,
  O_RESULT,
  O_SERVED,
  O_SLOW_INBUF,
  O_SLOW_INLEN,
  O_SLOW_OUTBUF,
  O_SLOW_OUTLEN,
  O_STATE,
  R_MAX_SPINNERS,
  R_SPIN_POLLS,
  R_TRACE,
  R_SPINNERS,
  R_WORDS,
  SCB_BYTES,
  SCB_MAGIC,
  ScbState,
} from './layout.js';
import type { ExitRequest, LinkableCode, RpcReply, RpcRequest, SlowRequest, WorkerBoot, WorkerMessage } from './protocol.js';
import { FutexSleepers } from './futex-sleepers.js';
import { ROBUST_SLOTS, rollBackInMemory, type RobustRegistration } from '../robust-word.js';

/** How often, and for how long, a dead thread's robust word held by another thread is re-checked. */
const ORPHAN_SWEEP_MS = 5;
const ORPHAN_LIFE_MS = 10_000;
interface Orphan {
  readonly tid: number;
  readonly reg: RobustRegistration;
  readonly since: number;
}
import { calibratePolls } from './spin-wait.js';
import { GrantHeap } from '../grant-heap.js';
import { HostAuthority } from '../host-authority.js';
import { copyCallBuffer, type CocallTracer } from '../switcher.js';
import { TRACE_LOG_BYTES, TraceLogReader } from './trace-log.js';
import { releaseClaim, wakeClaimWaiters } from './thread-switcher.js';

/** How often the host drains the cocall trace log while tracing. */
const TRACE_DRAIN_MS = 2;

export interface ThreadedOptions {
  readonly memoryBytes?: number;
  readonly mode?: IsaMode;
  readonly stripTags?: boolean;
  readonly kernelBytes?: number;
  /** Where co-processes' `print` goes (default: console.log). */
  readonly stdout?: (line: string) => void;
  /** Longest a cocall waits for a reply or a busy callee before ETIMEDOUT (default 30 s). */
  readonly callTimeoutMs?: number;
  /** Spin budget before sleeping, in µs (default 100: about twice a sleep+wake here). */
  readonly spinMicros?: number;
  /** Threads allowed to spin at once (default: the number of cores). */
  readonly maxSpinners?: number;
  /** Bytes of exited co-processes' memory held before a revocation sweep (as inline). */
  readonly reclaimQuarantineBytes?: number;
}

/** One worker_thread: it hosts a co-process's main thread and any threads it spawned. */
interface WorkerRec {
  readonly worker: Worker;
  readonly reply: MessagePort;
  readonly slow: MessagePort;
  readonly doorbell: Int32Array;
  readonly threads: Map<number, ThreadRec>;
  alive: boolean;
  exitMessage?: ExitRequest;
}

/** One co-process thread: its own SCB (target, mailbox), hosted on a worker. */
interface ThreadRec {
  readonly tid: number;
  readonly name: string;
  readonly scbBase: number;
  readonly host: WorkerRec;
  /** Serving or parked: it does not keep `run()` going. */
  parked: boolean;
  alive: boolean;
}


interface ProcRec {
  readonly pid: number;
  readonly name: string;
  readonly parent: number;
  readonly argv: readonly string[];
  readonly capvBase: number;
  capc: number;
  readonly threads: Map<number, ThreadRec>;
  readonly workers: Set<WorkerRec>;
  readonly grants: Set<number>;
  state: 'running' | 'exited';
  exit?: ExitStatus;
  readonly exited: Promise<ExitStatus>;
  resolveExit: (s: ExitStatus) => void;
}

interface SlowCall {
  readonly caller: ThreadRec;
  readonly callerScb: number;
  readonly callee: ThreadRec;
  readonly rpcId: number;
  readonly timer: NodeJS.Timeout;
  /** The caller was told ETIMEDOUT: a late reply is dropped, nothing is written to it. */
  abandoned: boolean;
}

export interface ThreadedEvents {
  spawn: (info: CoProcessInfo) => void;
  exit: (status: ExitStatus) => void;
}

const DEFAULT_MEMORY = 16 << 20;

export class ThreadedAddressSpace extends EventEmitter<ThreadedEvents> implements AddressSpaceApi {
  readonly runtime = 'threads' as const;
  readonly machine: CapMachine;
  readonly #booted: BootedMachine;
  readonly #kernelHeap: RegionAllocator;
  readonly #heap: GrantHeap;
  readonly #kernel: { base: number; length: number };
  readonly #kernelCap: Capability;
  readonly #entryBase: number;
  readonly #pairOtype: number;
  readonly #targetOtype: number;
  readonly #runtimeWords = new SharedArrayBuffer(R_WORDS * 4);
  readonly #sleepers = new FutexSleepers(new Int32Array(this.#runtimeWords));
  readonly #processes = new Map<number, ProcRec>();
  readonly #threads = new Map<number, { proc: ProcRec; thread: ThreadRec }>();
  readonly #byScb = new Map<number, { proc: ProcRec; thread: ThreadRec }>();
  /** Code co-processes loaded for others to link (CodeModule). */
  readonly #code: LinkableCode[] = [];
  readonly #authority: HostAuthority;
  readonly #names = new Map<string, number>();
  /**
   * Robust words of dead threads that another thread held when they died: it may hand the
   * word back to the dead owner (a COPIPE sender finishing into a dead receiver's buffer), so
   * they are re-checked on a timer until the word is free or rolled back (ORPHAN_LIFE_MS).
   */
  #orphans: Orphan[] = [];
  #orphanTimer: NodeJS.Timeout | undefined;
  readonly #slowByCallee = new Map<ThreadRec, SlowCall>();
  readonly #slowQueue = new Map<ThreadRec, Array<Omit<SlowCall, 'timer' | 'abandoned'>>>();
  readonly #stdout: (line: string) => void;
  readonly #options: ThreadedOptions;
  readonly #tsx: string | undefined;
  #traceLog: TraceLogReader | undefined;
  #trace: { readonly tracer: CocallTracer; readonly timer: NodeJS.Timeout } | undefined;
  #nextPid = 100;
  #nextTid = 100000;
  #idle: Array<() => void> = [];

  private constructor(options: ThreadedOptions) {
    super();
    this.#options = options;
    const memoryBytes = options.memoryBytes ?? DEFAULT_MEMORY;
    this.#stdout = options.stdout ?? ((line) => console.log(line));
    this.#booted = CapMachine.boot({ memoryBytes, mode: options.mode ?? 'v9' });
    this.machine = this.#booted.machine;
    this.#authority = new HostAuthority(this.#booted);
    const kernelBytes = options.kernelBytes ?? Math.min(1 << 20, memoryBytes / 4);
    this.#kernelHeap = new RegionAllocator(4096, kernelBytes);
    this.#heap = new GrantHeap(this.#booted, new RegionAllocator(kernelBytes, memoryBytes), options.reclaimQuarantineBytes ?? GrantHeap.defaultQuarantine(memoryBytes - kernelBytes));
    this.#kernel = { base: 4096, length: kernelBytes - 4096 };
    this.#kernelCap = this.machine.restrict(this.#booted.roots.memory, BigInt(this.#kernel.base), BigInt(this.#kernel.length), PermSet.DATA | Perm.CINVOKE);
    this.#entryBase = this.#kernelRegion(64);
    const types = this.#booted.roots.kernelTypes;
    const otype = (): number =>
      Number(
        E.getOrElseW(() => {
          throw new Error('kernel otypes exhausted');
        })(types.allocate(1)).address,
      );
    this.#pairOtype = otype();
    this.#targetOtype = otype();
    const words = new Int32Array(this.#runtimeWords);
    Atomics.store(words, R_MAX_SPINNERS, options.maxSpinners ?? availableParallelism());
    Atomics.store(words, R_SPIN_POLLS, calibratePolls(options.spinMicros ?? 100));
    this.#tsx = resolveTsx();
  }

  static create(options: ThreadedOptions = {}): ThreadedAddressSpace {
    return new ThreadedAddressSpace(options);
  }

  #kernelRegion(bytes: number): number {
    const r = this.#kernelHeap.allocate(bytes, 0);
    if (r === undefined) throw new Error('kernel memory exhausted');
    this.#booted.memory.fill(r.base, r.length, 0);
    return r.base;
  }

  #words(): Int32Array {
    return this.#booted.memory.words;
  }

  #scbCap(base: number): Capability {
    return this.machine.restrict(this.#kernelCap, BigInt(base - this.#kernel.base), BigInt(SCB_BYTES), PermSet.DATA);
  }

  spawn(program: ProgramModule, options: SpawnOptions = {}): CoProcessHandle {
    if (typeof program !== 'object' || program === null || !('module' in program)) {
      throw new TypeError('the threads runtime starts programs by module: pass { module, export? }');
    }
    const capv = options.capv ?? [];
    if (capv.length > CAPV_SLOTS) throw new RangeError(`threads runtime: capv holds at most ${CAPV_SLOTS} slots`);
    const proc = this.#newProcess(program, options.parent ?? 0, options.argv, options.name);
    const block = this.#capvCap(proc);
    capv.forEach((c, i) => this.machine.storeCap(block, i * 16, c ?? this.machine.clearTag(block)));
    proc.capc = capv.length;
    this.#startWorker(proc, 'process', program, 'main');
    this.emit('spawn', this.#info(proc));
    return { pid: proc.pid, exited: proc.exited };
  }

  #capvCap(proc: ProcRec): Capability {
    return this.machine.restrict(this.#kernelCap, BigInt(proc.capvBase - this.#kernel.base), BigInt(CAPV_BLOCK_BYTES), PermSet.DATA);
  }

  #newProcess(program: ProgramModule, parent: number, argv: readonly string[] | undefined, name: string | undefined): ProcRec {
    const pid = this.#nextPid++;
    const pname = name ?? program.name ?? `coproc-${pid}`;
    let resolveExit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => (resolveExit = r));
    const proc: ProcRec = {
      pid,
      name: pname,
      parent,
      argv: Object.freeze([...(argv ?? [pname])]),
      capvBase: this.#kernelRegion(CAPV_BLOCK_BYTES),
      capc: 0,
      threads: new Map(),
      workers: new Set(),
      grants: new Set(),
      state: 'running',
      exited,
      resolveExit,
    };
    this.#processes.set(pid, proc);
    return proc;
  }

  /** A new SCB (target, mailbox) for a thread of `proc` hosted on `host`. */
  #newThread(proc: ProcRec, host: WorkerRec, tid: number, name: string): ThreadRec {
    const scbBase = this.#kernelRegion(SCB_BYTES);
    const W = this.#words();
    Atomics.store(W, (scbBase + O_MAGIC) >>> 2, SCB_MAGIC);
    Atomics.store(W, (scbBase + O_OWNER_TID) >>> 2, tid);
    Atomics.store(W, (scbBase + O_OWNER_PID) >>> 2, proc.pid);
    const rec: ThreadRec = { tid, name, scbBase, host, parked: false, alive: true };
    host.threads.set(tid, rec);
    proc.threads.set(tid, rec);
    this.#threads.set(tid, { proc, thread: rec });
    this.#byScb.set(scbBase, { proc, thread: rec });
    return rec;
  }

  #startWorker(proc: ProcRec, kind: 'process' | 'thread', program: ProgramModule, threadName: string): ThreadRec {
    const tid = this.#nextTid++;
    const replyCh = new MessageChannel();
    const slowCh = new MessageChannel();
    const doorbell = new SharedArrayBuffer(D_WORDS * 4);
    const module = program.module instanceof URL ? program.module.href : program.module;
    const host: WorkerRec = {
      worker: undefined as unknown as Worker,
      reply: replyCh.port1,
      slow: slowCh.port1,
      doorbell: new Int32Array(doorbell),
      threads: new Map(),
      alive: true,
    };
    const rec = this.#newThread(proc, host, tid, threadName);
    const boot: WorkerBoot = {
      kind,
      program: { module, export: program.export ?? 'main' },
      buffers: this.#booted.memory.buffers,
      mode: this.machine.mode,
      runtimeWords: this.#runtimeWords,
      doorbell,
      replyPort: replyCh.port2,
      slowPort: slowCh.port2,
      pid: proc.pid,
      tid,
      name: proc.name,
      threadName,
      argv: proc.argv,
      scbBase: rec.scbBase,
      capvBase: proc.capvBase,
      capc: proc.capc,
      kernel: this.#kernel,
      entryBase: this.#entryBase,
      pairOtype: this.#pairOtype,
      targetOtype: this.#targetOtype,
      stripTags: this.#options.stripTags ?? false,
      callTimeoutMs: this.#options.callTimeoutMs ?? 30_000,
    };
    const worker = new Worker(bootstrapSource(workerEntry(), this.#tsx, module), {
      eval: true,
      workerData: boot,
      transferList: [replyCh.port2, slowCh.port2],
      name: `${proc.name}[${proc.pid}]/${threadName}`,
    });
    (host as { worker: Worker }).worker = worker;
    proc.workers.add(host);
    worker.on('message', (m: WorkerMessage) => this.#onMessage(proc, host, m));
    worker.on('error', (e) => {
      host.exitMessage ??= { op: 'exit', code: 1, reason: 'fault', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), process: true };
    });
    worker.on('exit', (code) => this.#onWorkerExit(proc, host, code));
    return rec;
  }

  #onMessage(proc: ProcRec, host: WorkerRec, m: WorkerMessage): void {
    switch (m.t) {
      case 'rpc': {
        const rec = host.threads.get(m.tid);
        if (rec !== undefined) this.#rpc(proc, rec, m.id, m.req, m.sync);
        return;
      }
      case 'parked': {
        const rec = host.threads.get(m.tid);
        if (rec !== undefined) rec.parked = m.parked;
        this.#checkIdle();
        return;
      }
      case 'print':
        this.#stdout(m.line);
        return;
      case 'capv':
        proc.capc = Math.min(m.capc, CAPV_SLOTS);
        return;
      case 'slow-reply': {
        const callee = this.#byScb.get(m.callee)?.thread;
        if (callee !== undefined && callee.host === host) this.#slowReply(callee, m.result);
        return;
      }
    }
  }

  #answer(rec: ThreadRec, id: number, sync: boolean, r: E.Either<SysError, unknown>): void {
    const reply: RpcReply = E.isLeft(r) ? { id, err: { name: r.left._tag, message: r.left.message } } : { id, ok: r.right };
    const host = rec.host;
    if (!host.alive) return;
    if (sync) {
      host.reply.postMessage(reply);
      Atomics.add(host.doorbell, D_RPC, 1);
      Atomics.notify(host.doorbell, D_RPC);
    } else {
      host.worker.postMessage({ t: 'reply', ...reply });
    }
  }

  #rpc(proc: ProcRec, rec: ThreadRec, id: number, req: RpcRequest, sync: boolean): void {
    const answer = (r: E.Either<SysError, unknown>): void => this.#answer(rec, id, sync, r);
    switch (req.op) {
      case 'coregister': {
        const owner = this.#names.get(req.name);
        if (owner !== undefined && owner !== rec.scbBase) return answer(E.left(sysError('EEXIST', 'coregister', `name "${req.name}" is registered`)));
        for (const [n, b] of this.#names) if (b === rec.scbBase) this.#names.delete(n);
        this.#names.set(req.name, rec.scbBase);
        return answer(E.right(rec.scbBase));
      }
      case 'colookup': {
        const base = this.#names.get(req.name);
        return answer(base === undefined ? E.left(sysError('ESRCH', 'colookup', `no target named "${req.name}"`)) : E.right(base));
      }
      case 'grant': {
        if (!Number.isInteger(req.bytes) || req.bytes < 0) return answer(E.left(sysError('EINVAL', 'malloc', `bad size ${req.bytes}`)));
        const r = this.#heap.allocate(req.bytes, proc.pid);
        if (r === undefined) return answer(E.left(sysError('ENOMEM', 'malloc', `no room for ${req.bytes} bytes`)));
        proc.grants.add(r.base);
        return answer(E.right({ base: r.base, length: r.length }));
      }
      case 'spawn': {
        if (req.capc > CAPV_SLOTS) return answer(E.left(sysError('EINVAL', 'coexecvec', 'capv too long')));
        const program: ProgramModule = { module: req.module, export: req.export, ...(req.name === undefined ? {} : { name: req.name }) };
        const child = this.#newProcess(program, proc.pid, req.argv, req.name);
        // The parent staged the child's capv in its own block; the kernel copies it, tags and all.
        this.machine.copy(this.#capvCap(child), 0, this.#capvCap(proc), CAPV_STAGE, req.capc * 16);
        child.capc = req.capc;
        this.#startWorker(child, 'process', program, 'main');
        this.emit('spawn', this.#info(child));
        return answer(E.right(child.pid));
      }
      case 'spawn_thread': {
        this.#startWorker(proc, 'thread', { module: req.module, export: req.export }, req.name);
        return answer(E.right(undefined));
      }
      case 'thread_new': {
        const t = this.#newThread(proc, rec.host, this.#nextTid++, req.name);
        this.emit('spawn', this.#info(proc));
        return answer(E.right({ tid: t.tid, scbBase: t.scbBase }));
      }
      case 'thread_exit': {
        const t = rec.host.threads.get(req.tid);
        if (t !== undefined && t.alive) {
          t.alive = false;
          this.#scbGone(t);
          this.#checkIdle();
        }
        return answer(E.right(undefined));
      }
      case 'code_register': {
        if (!proc.grants.has(req.textBase) || !proc.grants.has(req.paramsBase)) return answer(E.left(sysError('EINVAL', 'loadCode', 'code and parameters must be memory this process was granted')));
        this.#code.push({ textBase: req.textBase, names: [...req.names], module: req.module, export: req.export, paramsBase: req.paramsBase, paramsLength: req.paramsLength });
        return answer(E.right(undefined));
      }
      case 'code_of': {
        const c = this.#code.find((x) => req.address >= x.textBase && req.address < x.textBase + x.names.length * CODE_ENTRY_BYTES);
        return answer(c === undefined ? E.left(sysError('ENOENT', 'linkCode', 'no code loaded at that address')) : E.right(c));
      }
      case 'waitpid': {
        const target = this.#processes.get(req.pid);
        if (target === undefined) return answer(E.left(sysError('ESRCH', 'waitpid', `no process ${req.pid}`)));
        let timer: NodeJS.Timeout | undefined;
        if (req.timeoutMs >= 0) timer = setTimeout(() => answer(E.left(sysError('ETIMEDOUT', 'waitpid', `${req.pid} did not exit in time`))), req.timeoutMs);
        void target.exited.then((s) => {
          if (timer !== undefined) clearTimeout(timer);
          answer(E.right(s.error === undefined ? s : { ...s, error: String(s.error) }));
        });
        return;
      }
      case 'cocall_slow':
        return this.#slowCall(rec, id, req.target);
      case 'exit':
        rec.host.exitMessage = req;
        return answer(E.right(undefined));
    }
  }

  // ---- cocall_slow: routed through this thread by postMessage ----

  #slowCall(caller: ThreadRec, rpcId: number, target: number): void {
    const fail = (name: 'EINVAL' | 'ENOLINK' | 'EAGAIN' | 'EPROTOTYPE', message: string): void => this.#answer(caller, rpcId, true, E.left(sysError(name, 'cocall_slow', message)));
    const owner = this.#ownerOfScb(target);
    if (owner === undefined) return fail('EINVAL', 'target names no thread');
    const callee = owner.thread;
    const state = Atomics.load(this.#words(), (target + O_STATE) >>> 2);
    if (state === ScbState.GONE || !callee.alive) return fail('ENOLINK', 'callee thread has exited');
    if (state === ScbState.FAST) return fail('EPROTOTYPE', 'callee accepts fast calls');
    if (state !== ScbState.SLOW) return fail('EAGAIN', 'callee is not in coaccept');
    const call = { caller, callerScb: caller.scbBase, callee, rpcId };
    if (this.#slowByCallee.has(callee)) {
      const q = this.#slowQueue.get(callee) ?? [];
      q.push(call);
      this.#slowQueue.set(callee, q);
      return;
    }
    this.#dispatchSlow(call);
  }

  #dispatchSlow(call: Omit<SlowCall, 'timer' | 'abandoned'>): void {
    const { caller, callee } = call;
    const m = this.machine;
    const W = this.#words();
    const fail = (name: 'EFAULT' | 'ENOLINK', message: string): void => {
      this.#answer(caller, call.rpcId, true, E.left(sysError(name, 'cocall_slow', message)));
      this.#nextSlow(callee);
    };
    if (!callee.alive) return fail('ENOLINK', 'callee thread has exited');
    const calleeScb = this.#scbCap(callee.scbBase);
    const callerScb = this.#scbCap(call.callerScb);
    const outbuf = m.loadCap(callerScb, O_SLOW_OUTBUF);
    const outlen = Atomics.load(W, (call.callerScb + O_SLOW_OUTLEN) >>> 2);
    const inbuf = m.loadCap(calleeScb, O_INBUF);
    const n = Math.min(outlen, Atomics.load(W, (callee.scbBase + O_INLEN) >>> 2));
    // Slow calls are serialised here, one per callee; the claim only records who is in the call.
    Atomics.store(W, (callee.scbBase + O_CLAIM) >>> 2, caller.tid);
    if (!this.#copyIn(inbuf, outbuf, n)) return fail('EFAULT', 'capability in outbuf cannot be stored into the callee buffer');
    const timer = setTimeout(() => this.#slowTimeout(callee), this.#options.callTimeoutMs ?? 30_000);
    this.#slowByCallee.set(callee, { ...call, timer, abandoned: false });
    const req: SlowRequest = { length: n, caller: call.callerScb, callee: callee.scbBase };
    callee.host.slow.postMessage(req);
    Atomics.add(callee.host.doorbell, D_SLOW, 1);
    Atomics.notify(callee.host.doorbell, D_SLOW);
  }

  #copyIn(dst: Capability, src: Capability, n: number): boolean {
    return copyCallBuffer(this.#booted.memory, dst, dst.addressNumber, src, n, this.#options.stripTags === true);
  }

  #slowReply(callee: ThreadRec, result: number): void {
    const call = this.#slowByCallee.get(callee);
    if (call === undefined) return; // timed out already: the reply is dropped, nothing is written
    clearTimeout(call.timer);
    this.#slowByCallee.delete(callee);
    const W = this.#words();
    if (call.abandoned) {
      // The caller already heard ETIMEDOUT.
    } else if (result < 0) {
      this.#answer(call.caller, call.rpcId, true, E.left(sysError('ENOLINK', 'cocall_slow', 'callee failed the call')));
    } else if (call.caller.alive) {
      const m = this.machine;
      const inbuf = m.loadCap(this.#scbCap(call.callerScb), O_SLOW_INBUF);
      const inlen = Atomics.load(W, (call.callerScb + O_SLOW_INLEN) >>> 2);
      const outbuf = m.loadCap(this.#scbCap(callee.scbBase), O_OUTBUF);
      const n = Math.min(result, inlen);
      if (this.#copyIn(inbuf, outbuf, n)) this.#answer(call.caller, call.rpcId, true, E.right(n));
      else this.#answer(call.caller, call.rpcId, true, E.left(sysError('EFAULT', 'cocall_slow', 'capability in reply cannot be stored into inbuf')));
    }
    this.#nextSlow(callee);
  }

  #slowTimeout(callee: ThreadRec): void {
    const call = this.#slowByCallee.get(callee);
    if (call === undefined) return;
    // The callee keeps the claim until it answers; the caller hears ETIMEDOUT now.
    this.#answer(call.caller, call.rpcId, true, E.left(sysError('ETIMEDOUT', 'cocall_slow', 'no reply in time')));
    call.abandoned = true;
  }

  #nextSlow(callee: ThreadRec): void {
    releaseClaim(this.#words(), callee.scbBase);
    const next = this.#slowQueue.get(callee)?.shift();
    if (next !== undefined) this.#dispatchSlow(next);
  }

  #ownerOfScb(base: number): { proc: ProcRec; thread: ThreadRec } | undefined {
    return this.#byScb.get(base);
  }

  // ---- death ----

  #onWorkerExit(proc: ProcRec, host: WorkerRec, code: number): void {
    host.alive = false;
    // Threads killed while they held spinner tickets: give the tickets back.
    const tickets = Atomics.exchange(host.doorbell, D_TICKET, 0);
    if (tickets > 0) Atomics.sub(new Int32Array(this.#runtimeWords), R_SPINNERS, tickets);
    for (const t of host.threads.values()) {
      if (t.alive) {
        t.alive = false;
        this.#scbGone(t);
      }
      // Only now that the worker has stopped can its robust words be rolled back safely.
      this.#adoptRobust(t);
    }
    this.#sweepOrphans();
    const msg = host.exitMessage;
    if (proc.state === 'running' && (msg === undefined || msg.process)) {
      // A worker that ends without its exit call died (killed, out of memory, failed to load).
      const status = msg ?? { reason: 'fault' as const, code: code === 0 ? 1 : code, error: 'worker ended without exiting' };
      this.#terminate(proc, { reason: status.reason, code: status.code, ...(status.error === undefined ? {} : { error: status.error }) });
    }
    this.#checkIdle();
  }

  /** A dead thread's target answers ENOLINK; calls in flight to it fail; its claims elsewhere are freed. */
  #scbGone(rec: ThreadRec): void {
    const W = this.#words();
    const i = (o: number): number => (rec.scbBase + o) >>> 2;
    Atomics.store(W, i(O_STATE), ScbState.GONE);
    Atomics.notify(W, i(O_STATE));
    if (Atomics.load(W, i(O_CLAIM)) !== 0) {
      Atomics.store(W, i(O_RESULT), -Errno.ENOLINK);
      Atomics.store(W, i(O_RESP), Atomics.load(W, i(O_REQ)));
      Atomics.notify(W, i(O_RESP));
    }
    wakeClaimWaiters(W, rec.scbBase);
    for (const [n, b] of this.#names) if (b === rec.scbBase) this.#names.delete(n);
    for (const { thread } of this.#threads.values()) {
      const iClaim = (thread.scbBase + O_CLAIM) >>> 2;
      if (Atomics.compareExchange(W, iClaim, rec.tid, CLAIM_ABANDONED) === rec.tid) {
        Atomics.store(W, (thread.scbBase + O_ABANDONED_SEQ) >>> 2, Atomics.load(W, (thread.scbBase + O_REQ) >>> 2));
        const done = Atomics.load(W, (thread.scbBase + O_RESP) >>> 2) === Atomics.load(W, (thread.scbBase + O_REQ) >>> 2);
        if (done && Atomics.compareExchange(W, iClaim, CLAIM_ABANDONED, 0) === CLAIM_ABANDONED) wakeClaimWaiters(W, thread.scbBase);
      }
    }
    const slow = this.#slowByCallee.get(rec);
    if (slow !== undefined) this.#slowReply(rec, -Errno.ENOLINK);
    for (const q of this.#slowQueue.get(rec)?.splice(0) ?? []) this.#answer(q.caller, q.rpcId, true, E.left(sysError('ENOLINK', 'cocall_slow', 'callee thread has exited')));
  }

  /** Take over a stopped thread's robust-word registrations (see robust-word.ts). */
  #adoptRobust(t: ThreadRec): void {
    const W = this.#words();
    const now = performance.now();
    for (let slot = 0; slot < ROBUST_SLOTS; slot++) {
      const at = (t.scbBase + O_ROBUST + slot * ROBUST_SLOT_BYTES) >>> 2;
      const word = Atomics.exchange(W, at, 0) - 1;
      if (word < 0) continue;
      this.#orphans.push({ tid: t.tid, reg: { word, wake: Atomics.load(W, at + 1), rollback: Atomics.load(W, at + 2) }, since: now });
    }
  }

  /** Roll back what dead threads still own; keep what a live thread holds right now, for a while. */
  #sweepOrphans(): void {
    const W = this.#words();
    const now = performance.now();
    let pending = this.#orphans;
    // Until nothing changes: one rollback may return a word to another dead thread.
    for (;;) {
      let changed = false;
      const held: Orphan[] = [];
      for (const o of pending) {
        const h = rollBackInMemory(this.#booted.memory, [o.reg], o.tid, (a) => {
          changed = true;
          this.#sleepers.wake(W, a >>> 2);
        });
        if (h.length > 0) held.push(o);
      }
      pending = held;
      if (!changed || held.length === 0) break;
    }
    this.#orphans = pending.filter((o) => now - o.since < ORPHAN_LIFE_MS);
    if (this.#orphans.length > 0 && this.#orphanTimer === undefined) {
      this.#orphanTimer = setTimeout(() => {
        this.#orphanTimer = undefined;
        this.#sweepOrphans();
      }, ORPHAN_SWEEP_MS).unref();
    }
  }

  #terminate(proc: ProcRec, how: Omit<ExitStatus, 'pid'>): void {
    if (proc.state === 'exited') return;
    proc.state = 'exited';
    const status: ExitStatus = { pid: proc.pid, ...how };
    proc.exit = status;
    for (const t of proc.threads.values()) if (t.alive) this.#scbGone(t);
    for (const w of proc.workers) if (w.alive) void w.worker.terminate();
    // As inline: its memory dies now for every thread and is reused after the next sweep.
    this.#heap.reclaim(proc.grants);
    proc.resolveExit(status);
    this.emit('exit', status);
  }

  #checkIdle(): void {
    if (this.#idle.length === 0 || !this.#isIdle()) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const f of waiting) f();
  }

  #isIdle(): boolean {
    for (const p of this.#processes.values()) {
      if (p.state === 'exited') continue;
      for (const t of p.threads.values()) if (t.alive && t.host.alive && !t.parked) return false;
    }
    return true;
  }

  run(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  kill(pid: number): E.Either<SysError, void> {
    const p = this.#processes.get(pid);
    if (p === undefined || p.state === 'exited') return E.left(sysError('ESRCH', 'kill', `no process ${pid}`));
    this.#terminate(p, { reason: 'killed', code: 128 + 9 });
    return E.right(undefined);
  }

  /**
   * Trace every cocall (both paths) of every worker: they append records to a log in kernel
   * memory, drained here in order every TRACE_DRAIN_MS and at shutdown. Undefined stops it.
   */
  traceCocalls(tracer: CocallTracer | undefined): void {
    const words = new Int32Array(this.#runtimeWords);
    if (this.#trace !== undefined) {
      this.#drainTrace();
      clearInterval(this.#trace.timer);
      Atomics.store(words, R_TRACE, 0);
      this.#trace = undefined;
    }
    if (tracer === undefined) return;
    this.#traceLog ??= new TraceLogReader(this.machine, this.#booted.memory, this.#kernelCap, this.#kernelRegion(TRACE_LOG_BYTES));
    const timer = setInterval(() => this.#drainTrace(), TRACE_DRAIN_MS);
    timer.unref();
    this.#trace = { tracer, timer };
    Atomics.store(words, R_TRACE, this.#traceLog.base);
  }

  /**
   * Trace records producers have dropped so far, read from the shared log itself: current even
   * while this thread is too busy to drain (the tracer's `lost` hears of them at the next drain).
   */
  get traceRecordsLost(): number {
    return this.#traceLog?.lost ?? 0;
  }

  #drainTrace(): void {
    const t = this.#trace;
    if (t !== undefined) this.#traceLog?.drain(t.tracer, (n) => t.tracer.lost?.(n));
  }

  /** End every co-process and wait until no worker is left running. */
  async shutdown(): Promise<void> {
    const workers: Promise<number>[] = [];
    for (const p of this.#processes.values()) {
      for (const w of p.workers) if (w.alive) workers.push(new Promise((r) => w.worker.once('exit', r)));
      this.#terminate(p, { reason: 'killed', code: 128 + 9 });
    }
    await Promise.all(workers);
    for (const p of this.#processes.values()) {
      for (const w of p.workers) {
        w.reply.close();
        w.slow.close();
      }
    }
    // Every worker has stopped: whatever they logged is committed (or never will be).
    this.traceCocalls(undefined);
    this.#checkIdle();
  }

  /** Bytes of exited co-processes' memory waiting for the next revocation sweep. */
  get reclaimPending(): number {
    return this.#heap.pending;
  }

  /** Workers still running (0 after shutdown). */
  get liveWorkers(): number {
    let n = 0;
    for (const p of this.#processes.values()) for (const w of p.workers) if (w.alive) n++;
    return n;
  }

  #info(p: ProcRec): CoProcessInfo {
    return {
      pid: p.pid,
      name: p.name,
      parent: p.parent,
      argv: p.argv,
      state: p.state,
      threads: [...p.threads.values()].map((t) => ({ tid: t.tid, name: t.name, state: !t.alive ? 'exited' : t.parked ? 'serving' : 'running' })),
      capc: p.capc,
      granted: p.grants.size,
      ...(p.exit === undefined ? {} : { exit: p.exit }),
    };
  }

  processes(): CoProcessInfo[] {
    return [...this.#processes.values()].map((p) => this.#info(p));
  }

  /** Calls served and made per thread (shared counters), for tools. */
  switcherStats(): Array<{ pid: number; tid: number; served: number; made: number }> {
    const W = this.#words();
    return [...this.#threads.values()].map(({ proc, thread }) => ({
      pid: proc.pid,
      tid: thread.tid,
      served: Atomics.load(W, (thread.scbBase + O_SERVED) >>> 2),
      made: Atomics.load(W, (thread.scbBase + O_MADE) >>> 2),
    }));
  }

  /** A process's capv as the kernel holds it, for tools (`comsg capv`). */
  capvOf(pid: number): ReadonlyArray<Capability | undefined> | undefined {
    const p = this.#processes.get(pid);
    if (p === undefined) return undefined;
    const block = this.#capvCap(p);
    return Array.from({ length: p.capc }, (_, i) => {
      const c = this.machine.loadCap(block, i * 16);
      return c.tag ? c : undefined;
    });
  }

  /**
   * Host-only (tools, benchmarks; never reachable from a program): a fresh zeroed region of
   * the address space, to hand to a co-process through its capv.
   */
  allocateShared(bytes: number): Capability {
    const r = this.#heap.allocate(bytes, 0);
    if (r === undefined) throw new Error(`no room for ${bytes} bytes`);
    return this.#authority.region(r.base, r.length);
  }

  /** Host-only: SEAL|UNSEAL over `count` fresh otypes (see HostAuthority). */
  mintTypes(count: number): Capability {
    return this.#authority.mintTypes(count);
  }

  /** Host-only: an unbacked token space (see HostAuthority). */
  mintTokenSpace(bytes: number): Capability {
    return this.#authority.mintTokenSpace(bytes);
  }

  /** Host-only: wait without blocking the event loop until the word at cap+offset is not `expected`. */
  async waitWord(cap: Capability, offset: number, expected: number, timeoutMs: number): Promise<boolean> {
    this.machine.loadI32(cap, offset);
    const W = this.#words();
    const i = (cap.addressNumber + offset) >>> 2;
    const deadline = performance.now() + timeoutMs;
    // Atomics.waitAsync does not keep Node's event loop alive: without a handle of its own a
    // host awaiting a word that only a worker or an unref'd sweep will change could see the
    // process exit under it, the promise never settled. Not a timer for timeoutMs: that one
    // can fire just before waitAsync's own timeout is delivered, leaving a gap.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      while (Atomics.load(W, i) === expected) {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        await this.#sleepers.sleep(W, [i], [expected], left);
      }
      return true;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Host-only: wake every waiter on the word at cap+offset. */
  wakeWord(cap: Capability, offset: number): number {
    this.machine.loadI32(cap, offset);
    return this.#sleepers.wake(this.#words(), (cap.addressNumber + offset) >>> 2);
  }

}

/** The worker entry module next to this one, in sources (.ts) or in the build (.js/.cjs). */
function workerEntry(): string {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('./worker-entry.ts', here).href;
  const ext = here.endsWith('.cjs') ? '.cjs' : '.js';
  return new URL(`./threads/worker-entry${ext}`, here).href;
}

/** tsx's loader API, when it is installed (to run TypeScript sources in workers). */
function resolveTsx(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined;
  }
}

/**
 * Worker bootstrap: Node 20 does not carry `--import` loaders into workers, so when the entry
 * or the program is TypeScript, register tsx first.
 */
function bootstrapSource(entry: string, tsx: string | undefined, program: string): string {
  const needsTsx = tsx !== undefined && (/\.[mc]?ts$/.test(entry) || /\.[mc]?ts$/.test(program));
  const load = `import(${JSON.stringify(entry)})`;
  const body = needsTsx ? `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => ${load})` : load;
  return `${body}.catch((e) => { console.error(e); process.exit(70); });`;
}
