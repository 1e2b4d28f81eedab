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

  /** Sleep on one word, counted in, until it is not `expected`, a notify, or `timeoutMs`. */
  async sleep(words: Int32Array, wordIndex: number, expected: number, timeoutMs: number | undefined): Promise<'ok' | 'not-equal' | 'timed-out'> {
    this.enter(wordIndex);
    try {
      const r = Atomics.waitAsync(words, wordIndex, expected, timeoutMs);
      return r.async ? await r.value : r.value;
    } finally {
      this.leave(wordIndex);
    }
  }
}
