/**
 * The co-process side of a threads-runtime worker: attaches a CapMachine to the shared
 * buffers, rebuilds the privileged capabilities its switcher needs from the boot record, and
 * gives the program the same CoProcessApi/CoThreadApi the inline runtime does.
 */
import * as E from 'fp-ts/lib/Either.js';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Capability } from '../capability.js';
import { sysError, type ErrnoName, type SysError } from '../errno.js';
import { CapMachine, type BootedMachine } from '../machine.js';
import { Perm, PermSet } from '../perms.js';
import type { WakeReason } from '../scheduler.js';
import type { AcceptBuffers, CoacceptHandler, CoacceptLoop, SwitcherPair } from '../switcher.js';
import type { CoProcessApi, CoProcessHandle, CoThreadApi, ExitStatus, ProgramModule } from '../runtime-api.js';
import { CAPV_SLOTS, CAPV_STAGE, D_RPC } from './layout.js';
import type { RpcReply, RpcRequest, WorkerBoot, WorkerMessage } from './protocol.js';
import { ThreadSwitcher } from './thread-switcher.js';

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

  /** Block this worker until the kernel answers. */
  call(req: RpcRequest): E.Either<SysError, unknown> {
    const id = this.#next++;
    const seen = Atomics.load(this.#bell, D_RPC);
    this.post({ t: 'rpc', id, req, sync: true });
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
  callAsync(req: RpcRequest): Promise<E.Either<SysError, unknown>> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, (r) => resolve(toEither(req.op, r)));
      this.post({ t: 'rpc', id, req, sync: false });
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
  readonly switcher: ThreadSwitcher;
  readonly kernelRegion: Capability;
  readonly boot: WorkerBoot;

  constructor(boot: WorkerBoot, parent: MessagePort) {
    this.boot = boot;
    this.booted = CapMachine.boot({ buffers: boot.buffers, mode: boot.mode });
    const { machine: m, roots } = this.booted;
    this.link = new KernelLink(parent, boot.replyPort, new Int32Array(boot.doorbell));
    this.kernelRegion = m.restrict(roots.memory, BigInt(boot.kernel.base), BigInt(boot.kernel.length), PermSet.DATA | Perm.CINVOKE);
    const key = (otype: number): Capability => m.andPerm(m.setBoundsExact(m.setAddress(roots.sealing, BigInt(otype)), 1n), PermSet.SEALCAP);
    this.switcher = new ThreadSwitcher({
      machine: m,
      memory: this.booted.memory,
      kernelRegion: this.kernelRegion,
      entry: m.restrict(roots.memory, BigInt(boot.entryBase), 64n, Perm.GLOBAL | Perm.EXECUTE | Perm.LOAD | Perm.CINVOKE),
      pairKey: key(boot.pairOtype),
      targetKey: key(boot.targetOtype),
      runtimeWords: new Int32Array(boot.runtimeWords),
      doorbell: new Int32Array(boot.doorbell),
      slowPort: boot.slowPort,
      stripTags: boot.stripTags,
      callTimeoutMs: boot.callTimeoutMs,
      self: { pid: boot.pid, tid: boot.tid, scbBase: boot.scbBase },
      rpc: (req) => {
        this.switcher.releaseSpinner();
        return this.link.call(req);
      },
      post: (msg) => this.link.post(msg),
    });
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
}

export class ThreadCoThread implements CoThreadApi {
  readonly #host: WorkerHost;
  #alive = true;

  constructor(host: WorkerHost) {
    this.#host = host;
  }

  get pid(): number {
    return this.#host.boot.pid;
  }
  get tid(): number {
    return this.#host.boot.tid;
  }
  get name(): string {
    return this.#host.boot.threadName;
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
    return { ...this.#host.switcher.stats };
  }

  cosetup(what: number): E.Either<SysError, SwitcherPair> {
    return this.#host.switcher.cosetup(what);
  }
  coregister(name?: string): E.Either<SysError, Capability> {
    return this.#host.switcher.coregister(name);
  }
  colookup(name: string): E.Either<SysError, Capability> {
    return this.#host.switcher.colookup(name);
  }
  cocall(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    return this.#host.switcher.cocall(target, outbuf, outlen, inbuf, inlen);
  }
  cocallSlow(target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    return this.#host.switcher.cocallSlow(target, outbuf, outlen, inbuf, inlen);
  }
  cocallWith(pair: SwitcherPair, target: Capability, outbuf: Capability, outlen: number, inbuf: Capability, inlen: number): E.Either<SysError, number> {
    if (!this.#host.switcher.ownsPair(pair)) return E.left(sysError('EINVAL', 'cocall', "not this thread's cosetup pair"));
    return this.cocall(target, outbuf, outlen, inbuf, inlen);
  }
  coaccept(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers): Promise<E.Either<SysError, void>> {
    return Promise.resolve(this.#host.switcher.serve(handler, buffers, false));
  }
  coacceptSlow(handler: CoacceptHandler | CoacceptLoop, buffers: AcceptBuffers): Promise<E.Either<SysError, void>> {
    return Promise.resolve(this.#host.switcher.serve(handler, buffers, true));
  }
  cogetpid(cookie: Capability): E.Either<SysError, number> {
    return this.#host.switcher.cogetpid(cookie);
  }
  waitForTarget(target: Capability, timeoutMs: number): Promise<E.Either<SysError, void>> {
    return this.#host.switcher.waitAvailable(target, timeoutMs);
  }

  /** Futexes are Atomics.wait/notify on the shared words themselves. */
  async futexWait(words: ReadonlyArray<{ readonly cap: Capability; readonly offset: number; readonly expected: number }>, timeoutMs?: number): Promise<WakeReason | 'changed'> {
    const m = this.#host.booted.machine;
    const W = this.#host.booted.memory.words;
    const idx: number[] = [];
    for (const w of words) {
      if (m.loadI32(w.cap, w.offset) !== w.expected) return 'changed';
      const a = w.cap.addressNumber + w.offset;
      if ((a & 3) !== 0) throw new RangeError('futex word must be 4-byte aligned');
      idx.push(a >>> 2);
    }
    const deadline = timeoutMs === undefined || timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const waits = idx.map((i, k) => Atomics.waitAsync(W, i, words[k]!.expected, deadline === Infinity ? undefined : Math.max(0, deadline - performance.now())));
    if (waits.some((r) => !r.async)) return 'changed';
    const r = await Promise.race(waits.map((x) => x.value as Promise<'ok' | 'timed-out'>));
    return r === 'timed-out' ? 'timeout' : 'woken';
  }
  futexWake(cap: Capability, offset: number): number {
    this.#host.booted.machine.loadI32(cap, offset);
    return Atomics.notify(this.#host.booted.memory.words, (cap.addressNumber + offset) >>> 2);
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

  constructor(host: WorkerHost, thread: ThreadCoThread) {
    this.#host = host;
    this.thread = thread;
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
    const r = this.#host.link.call({ op: 'grant', bytes });
    if (E.isLeft(r)) return E.left(sysError(r.left._tag, 'malloc', r.left.message));
    const { base, length } = r.right as { base: number; length: number };
    return E.right(this.#host.grantCap(base, length, perms));
  }

  coexecvec(program: ProgramModule, argv: readonly string[] | undefined, capv: ReadonlyArray<Capability | undefined>): CoProcessHandle {
    if (capv.length > CAPV_SLOTS) throw new RangeError(`threads runtime: capv holds at most ${CAPV_SLOTS} slots`);
    const m = this.#host.booted.machine;
    const block = this.#host.capvBlock();
    capv.forEach((c, i) => m.storeCap(block, CAPV_STAGE + i * 16, c ?? m.clearTag(block)));
    const r = this.#host.link.call({
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
    return this.#host.link.callAsync({ op: 'waitpid', pid, timeoutMs }) as Promise<E.Either<SysError, ExitStatus>>;
  }

  waitpid(pid: number, options: { timeoutMs?: number } = {}): Promise<E.Either<SysError, ExitStatus>> {
    return this.#exitOf(pid, options.timeoutMs ?? -1);
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
