/**
 * libc's cocall(2) policy for programs: try the fast path; on EAGAIN (callee not in coaccept
 * yet) wait until it is — libc sleeps 1 ms and retries, we block on the callee's wake-up,
 * bounded by a timeout; on EPROTOTYPE (callee serves slow calls) use cocall_slow.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability, CoThreadApi, SysError } from '@comsg/capmachine';

export interface CocallOptions {
  /** How long to wait for a callee that is not accepting yet (ms; negative = forever). Default 5000. */
  readonly timeoutMs?: number;
}

export async function cocall(
  thread: CoThreadApi,
  target: Capability,
  outbuf: Capability,
  outlen: number,
  inbuf: Capability,
  inlen: number,
  options: CocallOptions = {},
): Promise<E.Either<SysError, number>> {
  const timeout = options.timeoutMs ?? 5000;
  for (;;) {
    const r = thread.cocall(target, outbuf, outlen, inbuf, inlen);
    if (E.isRight(r)) return r;
    switch (r.left._tag) {
      case 'EPROTOTYPE':
        return thread.cocallSlow(target, outbuf, outlen, inbuf, inlen);
      case 'EAGAIN': {
        const ready = await thread.waitForTarget(target, timeout);
        if (E.isLeft(ready)) return ready;
        continue;
      }
      default:
        return r;
    }
  }
}
