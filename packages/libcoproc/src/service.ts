/**
 * A capv-style service in one call: cosetup, register a target, allocate request/reply
 * buffers, and start serving. `startService` returns the target before the thread parks, so
 * the program can hand it out (capv, a namespace) and then `await service.serve()`.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  COSETUP_COACCEPT,
  COSETUP_COCALL,
  type Capability,
  type CoacceptHandler,
  type CoacceptLoop,
  type CoThread,
  type CoProcessContext,
  type SysError,
} from '@comsg/capmachine';

export interface ServiceOptions {
  /** Register the target under this name (colookup). */
  readonly name?: string;
  /** Size of each of the request and reply buffers. Default 4096. */
  readonly bufferBytes?: number;
  /** Serve cocall_slow instead of the fast path. */
  readonly slow?: boolean;
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
  ctx: CoProcessContext,
  handler: CoacceptHandler | CoacceptLoop,
  options: ServiceOptions = {},
  thread: CoThread = ctx.thread,
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
  const outbuf = ctx.malloc(bytes);
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
