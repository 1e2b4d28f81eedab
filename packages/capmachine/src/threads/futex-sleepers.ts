/**
 * Who sleeps on which futex word, coarsely: a count per bucket of words in the runtime's
 * control SAB. A waiter counts itself in before it sleeps; a waker notifies only when the
 * bucket is non-zero. Atomics.notify takes a process-wide mutex even with nobody waiting
 * (node-ipc-anchors §6.1), and a streaming sender wakes once per message.
 *
 * A waiter that a notify wakes is counted out by the waker, at once (it subtracts how many the
 * notify woke); one whose wait ends otherwise (the word already differed, or the timeout)
 * counts itself out. A woken waiter resumes through its worker's event loop, tens of
 * microseconds later: had it counted itself out then, a sender streaming meanwhile found the
 * bucket still non-zero at every message and paid a notify (about a microsecond) for each —
 * tens of thousands per 100 000-message round of a threads COCHANNEL stream.
 *
 * No lost wake-ups: the waiter's count-in (an atomic add) comes before Atomics.waitAsync's
 * atomic re-check of the word, and the waker's check of the count (an atomic read-modify-write)
 * comes after its atomic update of the word, so one of the two sees the other; a waiter leaves
 * the count only once it is out of the word's wait queue (woken, timed out, or never in it),
 * so the count never drops below the waiters queued. Every sleeper on these words sleeps
 * through `sleep`: a notify wakes only waiters counted here. A worker that dies asleep leaves
 * its count behind, which only costs later wakers a needless notify.
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
    const bucket = this.#bucket(wordIndex);
    // A read-modify-write, not a load: it also orders the caller's earlier store to the word.
    if (Atomics.add(this.#runtime, bucket, 0) === 0) return 0;
    const woke = Atomics.notify(words, wordIndex);
    // Those it woke are out of the queue now: count them out for them (see the class comment).
    if (woke > 0) Atomics.sub(this.#runtime, bucket, woke);
    return woke;
  }

  /**
   * Sleep, counted in on each word, until one of `words[indices[k]]` is not `expected[k]`, a
   * notify, or `timeoutMs`. The waits on words that did not fire stay registered until their
   * own timeout, so callers with several words pass a bounded slice.
   */
  async sleep(words: Int32Array, indices: readonly number[], expected: readonly number[], timeoutMs: number | undefined): Promise<'ok' | 'not-equal' | 'timed-out'> {
    const waits: Array<Promise<'ok' | 'timed-out'>> = [];
    let differed = false;
    for (const [k, i] of indices.entries()) {
      this.enter(i);
      let r: ReturnType<typeof Atomics.waitAsync>;
      try {
        r = Atomics.waitAsync(words, i, expected[k]!, timeoutMs);
      } catch (e) {
        this.leave(i);
        throw e;
      }
      if (!r.async) {
        // Never queued: count out now, and queue no more (those queued already expire).
        this.leave(i);
        differed = true;
        break;
      }
      // Queued until a notify (whose waker counts it out) or the timeout (counted out here).
      waits.push(r.value.then((v) => (v === 'ok' ? v : (this.leave(i), v))));
    }
    if (differed || waits.length === 0) return 'not-equal';
    return Promise.race(waits);
  }
}
