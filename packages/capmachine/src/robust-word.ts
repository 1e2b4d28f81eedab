/**
 * Robust words: state words that name their owning thread, so a thread that dies holding one
 * (a worker terminated mid-copy, a receiver killed while it waits) does not wedge everyone
 * else. It is Linux's robust futex idea cut down to what a userspace microkernel needs:
 *
 *  - an owned value is `ownedBy(state, tid)`: a 4-bit state and the owner's tid; a free
 *    value has owner 0 (tids start far above 0);
 *  - before the CAS that makes it the owner, a thread registers the word with the runtime
 *    (`CoThreadApi.robustEnter`: the word, the value to roll back to, a wake word), and leaves
 *    after the CAS that gives ownership up;
 *  - when a thread ends, the runtime rolls back every registered word that still names it:
 *    stores the rollback value, bumps the wake word and wakes its waiters. A registration
 *    without ownership is harmless: the owner check fails.
 *
 * The runtime checks LOAD and STORE on both words when the thread registers, so a rollback
 * never writes where the thread could not have written itself.
 */
import type { TaggedMemory } from './tagged-memory.js';

export const STATE_BITS = 4;
const STATE_MASK = (1 << STATE_BITS) - 1;

/** `state` owned by thread `tid` (0: nobody). */
export const ownedBy = (state: number, tid: number): number => (state & STATE_MASK) | (tid << STATE_BITS);
/** The owning thread's tid, 0 when the word is free. */
export const ownerOf = (word: number): number => word >>> STATE_BITS;
/** The state part of a word. */
export const stateOf = (word: number): number => word & STATE_MASK;

/** Registrations one thread may hold at once (a thread takes one or two words at a time). */
export const ROBUST_SLOTS = 4;

/** A registration, as kept by the runtime. */
export interface RobustRegistration {
  /** Absolute byte addresses of the owned word and of its wake word. */
  readonly word: number;
  readonly wake: number;
  readonly rollback: number;
}

/**
 * Roll back the registrations of dead thread `tid` whose word still names it: store the
 * rollback value and bump the wake word (clearing tags, as any data write does), then `wake`
 * it. Returns the registrations another thread holds right now: it may hand the word back to
 * the dead one later, so the caller may try them again. Words owned by nobody are done with.
 */
export function rollBackInMemory(memory: TaggedMemory, regs: readonly RobustRegistration[], tid: number, wake: (address: number) => void): RobustRegistration[] {
  const W = memory.words;
  const held: RobustRegistration[] = [];
  for (const r of regs) {
    const i = r.word >>> 2;
    for (;;) {
      const v = Atomics.load(W, i);
      const owner = ownerOf(v);
      if (owner !== tid) {
        if (owner !== 0) held.push(r);
        break;
      }
      memory.clearWordTag(r.word);
      if (Atomics.compareExchange(W, i, v, r.rollback) !== v) continue;
      memory.clearWordTag(r.wake);
      Atomics.add(W, r.wake >>> 2, 1);
      wake(r.wake);
      break;
    }
  }
  return held;
}
