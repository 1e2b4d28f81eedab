/**
 * A capv-style service in one call: cosetup, register a target, allocate request/reply
 * buffers, and start serving. `startService` returns the target before the thread parks, so
 * the program can hand it out (capv, a namespace) and then `await service.serve()`.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  COSETUP_COACCEPT,
  COSETUP_COCALL,
  sysError,
  type Capability,
  type CoacceptHandler,
  type CoacceptLoop,
  type CoThreadApi,
  type CoProcessApi,
  type SysError,
} from '@comsg/capmachine';

export interface ServiceOptions {
  /** Register the target under this name (colookup). */
  readonly name?: string;
  /** Size of each of the request and reply buffers. Default 4096. */
  readonly bufferBytes?: number;
  /** Serve cocall_slow instead of the fast path. */
  readonly slow?: boolean;
  /**
   * Answer in place: one buffer holds the request and the reply (the microkernel's argument
   * block). Slots a reply does not write then hold the caller's own request, never a
   * previous caller's reply.
   */
  readonly inPlace?: boolean;
}

export interface RunningService {
  readonly target: Capability;
  readonly inbuf: Capability;
  readonly outbuf: Capability;
  /** Park the serving thread until serving ends (process exit or `stop`). */
  readonly serve: () => Promise<void>;
  readonly stop: () => void;
}

/** Start serving on `thread` (default: the process's main thread); returns at once. */
export function startService(
  ctx: CoProcessApi,
  handler: CoacceptHandler | CoacceptLoop,
  options: ServiceOptions = {},
  thread: CoThreadApi = ctx.thread,
): E.Either<SysError, RunningService> {
  const bytes = options.bufferBytes ?? 4096;
  const accept = thread.cosetup(COSETUP_COACCEPT);
  if (E.isLeft(accept)) return accept;
  const call = thread.cosetup(COSETUP_COCALL); // services often call out as well
  if (E.isLeft(call)) return call;
  const target = thread.coregister(options.name);
  if (E.isLeft(target)) return target;
  const inbuf = ctx.malloc(bytes);
  if (E.isLeft(inbuf)) return inbuf;
  const outbuf = options.inPlace === true ? inbuf : ctx.malloc(bytes);
  if (E.isLeft(outbuf)) return outbuf;
  const session = thread.startAccepting(handler, { inbuf: inbuf.right, outbuf: outbuf.right }, options.slow ?? false);
  if (E.isLeft(session)) return session;
  const { stopped, stop } = session.right;
  return E.right({
    target: target.right,
    inbuf: inbuf.right,
    outbuf: outbuf.right,
    serve: async () => {
      await thread.park(stopped, stop);
    },
    stop,
  });
}

export interface WorkerSet {
  /** One target per worker thread, in start order (the first may be registered by name). */
  readonly targets: readonly Capability[];
  /** Stop every worker. */
  readonly stop: () => void;
}

/**
 * Start `count` worker threads in `ctx`, each serving its own `handlerFor(thread)` with its
 * own target and buffers, and wait (bounded) until all accept. Worker 0 is registered as
 * `registerFirstAs` when given. Used by daemons' op pools and by user coservices alike.
 */
export async function startWorkers(
  ctx: CoProcessApi,
  handlerFor: (thread: CoThreadApi) => CoacceptHandler | CoacceptLoop,
  options: { readonly count: number; readonly name: string; readonly registerFirstAs?: string; readonly bufferBytes?: number; readonly slow?: boolean; readonly inPlace?: boolean },
): Promise<E.Either<SysError, WorkerSet>> {
  const targets: Capability[] = [];
  const stops: Array<() => void> = [];
  let failure: SysError | undefined;
  for (let i = 0; i < options.count; i++) {
    ctx.spawnThread(`${options.name}-w${i}`, async (th) => {
      const name = i === 0 ? options.registerFirstAs : undefined;
      const svc = startService(
        ctx,
        handlerFor(th),
        {
          ...(name === undefined ? {} : { name }),
          ...(options.bufferBytes === undefined ? {} : { bufferBytes: options.bufferBytes }),
          ...(options.slow === true ? { slow: true } : {}),
          ...(options.inPlace === true ? { inPlace: true } : {}),
        },
        th,
      );
      if (E.isLeft(svc)) {
        failure = svc.left;
        return;
      }
      targets[i] = svc.right.target;
      stops.push(svc.right.stop);
      await svc.right.serve();
    });
  }
  for (let spins = 0; stops.length < options.count && failure === undefined; spins++) {
    if (spins > 10_000) return E.left(sysError('EAGAIN', 'startWorkers', 'workers did not start'));
    await ctx.thread.yield();
  }
  if (failure !== undefined) return E.left(failure);
  return E.right({ targets, stop: () => stops.forEach((s) => s()) });
}
