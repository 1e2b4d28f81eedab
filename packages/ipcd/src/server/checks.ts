/** Argument checks and the timed retry loop shared by the client-side coport code (the CInvoke validator of §3.9). */
import * as E from 'fp-ts/lib/Either.js';
import { Capability, Perm, isCapabilityFault, sysError, type CapMachine, type CoThreadApi, type SysError, type WordWindow } from '@comsg/capmachine';
import { Rec, unwatchSeq, watchSeq } from './port-record.js';

/**
 * A buffer argument: a live, unsealed capability with `perm` and room for `len` bytes from its
 * address. len ≤ 0 or not an integer → EINVAL; too short → ENOBUFS; wrong permission → EACCES.
 */
export function checkBuffer(m: CapMachine, op: string, buf: unknown, len: unknown, perm: number): SysError | undefined {
  if (!isLength(len)) return sysError('EINVAL', op, 'length must be a positive integer');
  if (!Capability.is(buf) || !m.isLive(buf) || buf.sealed) return sysError('EINVAL', op, 'buffer is not a live, unsealed capability');
  if (!buf.has(perm)) return sysError('EACCES', op, perm === Perm.LOAD ? 'buffer lacks LOAD' : 'buffer lacks STORE');
  // Numeric views: exact for memory addresses (far below 2^53), and no BigInt work per message.
  if (buf.addressNumber < buf.baseNumber || buf.topNumber - buf.addressNumber < len) return sysError('ENOBUFS', op, `buffer holds fewer than ${len} bytes`);
  return undefined;
}

/** A transfer length checkBuffer accepts: a positive integer that fits an i32. */
export function isLength(len: unknown): len is number {
  return typeof len === 'number' && Number.isInteger(len) && len > 0 && len <= 0x7fffffff;
}

/** Run memory work; a capability fault (e.g. a buffer revoked mid-call) becomes EFAULT. */
export function guarded<T>(op: string, f: () => E.Either<SysError, T>): E.Either<SysError, T> {
  try {
    return f();
  } catch (e) {
    return faulted(op, e);
  }
}

/** A caught capability fault as EFAULT; anything else is a bug and is rethrown. */
export function faulted(op: string, e: unknown): E.Either<SysError, never> {
  if (isCapabilityFault(e)) return E.left(sysError('EFAULT', op, e.message));
  throw e;
}

/** Absolute deadline for a timeout (negative = none). */
export function deadline(now: number, timeoutMs: number): number {
  return timeoutMs < 0 ? Infinity : now + timeoutMs;
}

/** Time left until `due`, as a futex timeout (undefined = unbounded). */
export function remaining(now: number, due: number): number | undefined {
  return due === Infinity ? undefined : Math.max(0, due - now);
}

/**
 * Retry a non-blocking operation until it stops saying "try again", the timeout passes
 * (ETIMEDOUT) or the thread is interrupted. The SEQ snapshot is taken before each attempt,
 * so a change between the attempt and the wait is never missed.
 *
 * `progress` names the word the peer's next step changes (a channel's END for a receiver,
 * START for a sender): where another thread runs in parallel, that word is polled for the
 * runtime's spin budget before this thread counts itself a waiter, so a peer streaming
 * along is never asked for a wake-up (see port-record's publish).
 */
export async function retrying(
  m: CapMachine,
  thread: CoThreadApi,
  rec: Capability,
  op: string,
  timeoutMs: number,
  attempt: () => E.Either<SysError, number>,
  progress?: { readonly words: WordWindow; readonly offset: number; readonly respins?: number },
): Promise<E.Either<SysError, number>> {
  const due = deadline(thread.now(), timeoutMs);
  let watching = false;
  let polled = progress === undefined;
  let spins = progress?.respins ?? 1;
  try {
    for (;;) {
      const seq = m.loadI32(rec, Rec.SEQ);
      const seen = polled ? 0 : progress!.words.loadAtomic(progress!.offset);
      const r = attempt();
      if (E.isRight(r) || (r.left._tag !== 'EAGAIN' && r.left._tag !== 'EWOULDBLOCK')) return r;
      if (!polled) {
        // Each change of the word gets a new attempt; `respins` changes that did not let the
        // attempt through (a COPIPE receiver passes through BUSY and OPEN before READY) still poll on.
        if (timeoutMs !== 0 && spins-- > 0 && thread.spinWhile(progress!.words, progress!.offset, seen)) continue;
        polled = true;
      }
      if (!watching) {
        // Counted from here on, a change wakes us (see publish): try once more, then sleep.
        watchSeq(m, rec);
        watching = true;
        continue;
      }
      const left = remaining(thread.now(), due);
      if (left === 0) return E.left(sysError('ETIMEDOUT', op, `no progress within ${timeoutMs} ms`));
      const why = await thread.futexWait([{ cap: rec, offset: Rec.SEQ, expected: seq }], left);
      if (why === 'closed' || why === 'deadlock') return E.left(sysError(why === 'closed' ? 'EINTR' : 'EDEADLK', op, `wait ended: ${why}`));
    }
  } finally {
    if (watching) unwatchSeq(m, rec);
  }
}
