/**
 * One send and one receive of a stream, in its two styles: `await cosend` per message, or
 * `cosendSync` (no promise) falling back to the waiting form only when it refuses — the way a
 * producer uses postMessage, a synchronous enqueue. Shared by the inline and threads streams.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability } from '@comsg/libcoproc';
import { corecv, corecvSync, cosendSync, type ComsgError, type UkernThread } from '@comsg/libcomsg';

const TIMEOUT = { timeoutMs: 30_000 } as const;

const refusedForNow = (r: E.Either<ComsgError, number>): boolean => E.isLeft(r) && (r.left._tag === 'EWOULDBLOCK' || r.left._tag === 'EAGAIN');

/** The sync send's result, or undefined: then `await cosend(…)` (it waits for room). */
export function streamSend(k: UkernThread, port: Capability, buf: Capability, len: number, sync: boolean): E.Either<ComsgError, number> | undefined {
  if (!sync) return undefined;
  const r = cosendSync(k, port, buf, len);
  return refusedForNow(r) ? undefined : r;
}

export function streamRecv(k: UkernThread, port: Capability, buf: Capability, len: number, sync: boolean): Promise<E.Either<ComsgError, number>> {
  if (sync) {
    const r = corecvSync(k, port, buf, len);
    if (!refusedForNow(r)) return Promise.resolve(r);
  }
  return corecv(k, port, buf, len, TIMEOUT);
}
