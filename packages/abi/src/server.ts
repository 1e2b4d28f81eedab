/**
 * Server side of the ABI: a daemon's worker pool. Each worker is a thread with its own target
 * and its own 256-byte block; any worker serves any of the daemon's ops (the op number in the
 * block selects the handler). The dispatch decodes arguments with the op's codec (bad shape →
 * EINVAL, unknown op → ENOSYS) and catches anything a handler throws (→ EDEFECT): a bug or a
 * hostile argument can fail one call, never take the daemon down.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Errno, type Capability, type CapMachine, type CoProcessApi, type CoThreadApi, type IncomingCall, type SysError } from '@comsg/capmachine';
import { ARGS_SIZE, OFF_ERROR, OFF_OP, OFF_STATUS, readSlot, writeSlot } from './block.js';
import type { AnyOpDecl, ArgsOf, ErrorsOf, ResultOf, UniversalError } from './define.js';
import { CAPV_ANSWERBACK_OP, CAPV_HEADER_SIZE, writeAnswerback } from './capv-packet.js';
import { startWorkers, type WorkerSet } from './service.js';

/** What a handler learns about the call besides its arguments. */
export interface CallContext {
  /** The caller's pid (from the cookie), or -1 if it cannot be determined. */
  readonly callerPid: number;
  readonly cookie: Capability;
  /** The worker thread serving the call (e.g. to cocall another daemon). */
  readonly thread: CoThreadApi;
  readonly slow: boolean;
}

export type OpHandler<D extends AnyOpDecl> = (args: ArgsOf<D>, call: CallContext) => E.Either<SysError<ErrorsOf<D> | UniversalError>, ResultOf<D>>;

export interface OpBinding {
  readonly decl: AnyOpDecl;
  readonly handle: (args: unknown, call: CallContext) => E.Either<SysError, unknown>;
}

export function bind<D extends AnyOpDecl>(decl: D, handle: OpHandler<D>): OpBinding {
  return { decl, handle: handle as OpBinding['handle'] };
}

export interface PoolStats {
  calls: number;
  errors: number;
  defects: number;
}

export interface WorkerPool {
  /** One target per worker thread. */
  readonly targets: readonly Capability[];
  readonly stats: PoolStats;
  /** Stop every worker. */
  readonly stop: () => void;
}

export interface PoolOptions {
  /** Worker threads; default max(number of ops, 2) inline, 1 on the threads runtime. */
  readonly workers?: number;
  readonly slow?: boolean;
  readonly name?: string;
  /** Register worker 0 under this name (colookup), as coprocd does with "COPROC_INIT". */
  readonly registerAs?: string;
  /** Told about every defect (a handler threw); the call already got EDEFECT. */
  readonly onDefect?: (op: string, error: unknown) => void;
  /** What op 0 (the capv answerback convention) answers; default names the pool and its ops. */
  readonly answerback?: string;
}

function fail(m: CapMachine, block: Capability, error: number): number {
  m.storeI32(block, OFF_STATUS, -1);
  m.storeI32(block, OFF_ERROR, error);
  return ARGS_SIZE;
}

/** Build the dispatch function for one worker (exported for tests and tools). */
export function makeDispatch(m: CapMachine, bindings: readonly OpBinding[], stats: PoolStats, onDefect: PoolOptions['onDefect'], answerback?: string) {
  const table = new Map<number, OpBinding>(bindings.map((b) => [b.decl.op, b]));
  return (call: IncomingCall, thread: CoThreadApi): number => {
    const block = call.inbuf;
    stats.calls++;
    if (call.length < 12) {
      stats.errors++;
      return fail(m, call.outbuf, Errno.EINVAL);
    }
    const op = m.loadI32(block, OFF_OP);
    // Op 0 is no microkernel op: in the capv convention it asks who the service is.
    if (op === CAPV_ANSWERBACK_OP && answerback !== undefined && call.length >= CAPV_HEADER_SIZE) return writeAnswerback(m, call.outbuf, answerback, call.outlen);
    const b = table.get(op);
    if (b === undefined) {
      stats.errors++;
      return fail(m, call.outbuf, Errno.ENOSYS);
    }
    try {
      const raw: Record<string, unknown> = {};
      for (const [field, slot] of Object.entries(b.decl.argSlots)) raw[field] = readSlot(m, block, slot);
      const args = b.decl.args.decode(raw);
      if (E.isLeft(args)) {
        stats.errors++;
        return fail(m, call.outbuf, Errno.EINVAL);
      }
      const pid = thread.cogetpid(call.cookie);
      const ctx: CallContext = { callerPid: E.isRight(pid) ? pid.right : -1, cookie: call.cookie, thread, slow: call.slow };
      const r = b.handle(args.right, ctx);
      if (E.isLeft(r)) {
        stats.errors++;
        return fail(m, call.outbuf, r.left.errno);
      }
      const encoded = b.decl.result.encode(r.right) as Record<string, unknown>;
      for (const [field, slot] of Object.entries(b.decl.resultSlots)) writeSlot(m, call.outbuf, slot, encoded[field]);
      m.storeI32(call.outbuf, OFF_STATUS, 0);
      m.storeI32(call.outbuf, OFF_ERROR, 0);
      return ARGS_SIZE;
    } catch (e) {
      stats.defects++;
      onDefect?.(b.decl.name, e);
      return fail(m, call.outbuf, Errno.EDEFECT);
    }
  };
}

/**
 * Start a worker pool serving `bindings` in the calling co-process; resolves once every
 * worker is accepting. The calling thread must be one of the process's own.
 */
export async function startPool(
  ctx: CoProcessApi,
  bindings: readonly OpBinding[],
  options: PoolOptions = {},
): Promise<E.Either<SysError, WorkerPool>> {
  const stats: PoolStats = { calls: 0, errors: 0, defects: 0 };
  const name = options.name ?? ctx.name;
  const text = options.answerback ?? `${name}, pid ${ctx.pid}: ${bindings.map((b) => b.decl.name).join(' ')}`;
  const dispatch = makeDispatch(ctx.machine, bindings, stats, options.onDefect, text);
  const workers = await startWorkers(ctx, (th) => (call) => dispatch(call, th), {
    // Threads of one co-process share a worker on the threads runtime: more than one would
    // only take turns (and spin in each other's way), so a pool there is one thread.
    count: options.workers ?? (ctx.runtime === 'threads' ? 1 : Math.max(bindings.length, 2)),
    name,
    bufferBytes: ARGS_SIZE,
    inPlace: true,
    ...(options.registerAs === undefined ? {} : { registerFirstAs: options.registerAs }),
    ...(options.slow === true ? { slow: true } : {}),
  });
  return E.map((w: WorkerSet) => ({ targets: w.targets, stats, stop: w.stop }))(workers);
}
