/**
 * Who sleeps on which futex word, coarsely: a count per bucket of words in the runtime's
 * control SAB. A waiter counts itself in before it sleeps and out after; a waker notifies only
 * when the bucket is non-zero. Atomics.notify takes a process-wide mutex even with nobody
 * waiting (node-ipc-anchors §6.1), and a streaming sender wakes once per message.
 *
 * No lost wake-ups: the waiter's count-in (an atomic add) comes before Atomics.wait's atomic
 * re-check of the word, and the waker's check of the count (an atomic read-modify-write)
 * comes after its atomic update of the word, so one of the two sees the other. A worker that
 * dies asleep leaves its count behind, which only costs later wakers a needless notify.
 */
import { FUTEX_BUCKETS, R_FUTEX_SLEEPERS } from './layout.js';

export class FutexSleepers {
  readonly #runtime: Int32Array;

  constructor(runtime: Int32Array) {
    this.#runtime = runtime;
  }

  #bucket(wordIndex: number): number {
    return R_FUTEX_SLEEPERS + (wordIndex & (FUTEX_BUCKETS - 1));
  }

  enter(wordIndex: number): void {
    Atomics.add(this.#runtime, this.#bucket(wordIndex), 1);
  }

  leave(wordIndex: number): void {
    Atomics.sub(this.#runtime, this.#bucket(wordIndex), 1);
  }

  /** Wake everyone on `words[wordIndex]` if anyone may sleep there; returns how many woke. */
  wake(words: Int32Array, wordIndex: number): number {
    // A read-modify-write, not a load: it also orders the caller's earlier store to the word.
    if (Atomics.add(this.#runtime, this.#bucket(wordIndex), 0) === 0) return 0;
    return Atomics.notify(words, wordIndex);
  }

  /**
   * Sleep, counted in on each word, until one of `words[indices[k]]` is not `expected[k]`, a
   * notify, or `timeoutMs`. The waits on words that did not fire stay registered until their
   * own timeout, so callers with several words pass a bounded slice.
   */
  async sleep(words: Int32Array, indices: readonly number[], expected: readonly number[], timeoutMs: number | undefined): Promise<'ok' | 'not-equal' | 'timed-out'> {
    for (const i of indices) this.enter(i);
    try {
      const waits = indices.map((i, k) => Atomics.waitAsync(words, i, expected[k]!, timeoutMs));
      if (waits.some((r) => !r.async)) return 'not-equal';
      return await Promise.race(waits.map((r) => r.value));
    } finally {
      for (const i of indices) this.leave(i);
    }
  }
}
