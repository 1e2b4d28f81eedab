/**
 * Waiting for a shared word to change, the way node-ipc-anchors §6.1 measured best: poll for a
 * calibrated budget, then publish a sleep flag, re-check, and `Atomics.wait`. Peers notify only
 * when they see the flag, so an awake waiter costs the writer nothing. At most `R_MAX_SPINNERS`
 * threads spin at once (more spinners than cores stall everyone); the rest sleep at once.
 */
import { D_TICKET, R_MAX_SPINNERS, R_SPIN_POLLS, R_SPINNERS } from './layout.js';

export interface WaitStats {
  spins: number;
  sleeps: number;
}

/** Sleep slices are bounded so a waiter re-checks deadlines and peer death regularly. */
export const SLICE_MS = 20;

/**
 * One thread's waiting state. A thread admitted as a spinner keeps its ticket while it stays
 * awake (running work occupies a core just as spinning does) and gives it back only when it
 * goes to sleep, so the shared admission word is touched once per sleep, not once per call.
 */
export class Waiter {
  readonly stats: WaitStats = { spins: 0, sleeps: 0 };
  readonly #runtime: Int32Array;
  /** The worker's doorbell: D_TICKET counts its threads' tickets so the kernel can reclaim them if it dies. */
  readonly #own: Int32Array;
  #ticket = false;

  constructor(runtime: Int32Array, own: Int32Array) {
    this.#runtime = runtime;
    this.#own = own;
  }

  /**
   * Wait until `words[index] !== seen`, `timeoutMs` passes (Infinity: never), or `abort()`
   * says stop. Returns the new value, or undefined on timeout/abort. `sleepFlag` is the index
   * of the word that tells the writer we sleep.
   */
  waitForChange(words: Int32Array, index: number, seen: number, sleepFlag: number, timeoutMs: number, abort: () => boolean): number | undefined {
    const spun = this.spin(words, index, seen);
    if (spun !== undefined) return spun;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (abort()) return undefined;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      Atomics.store(words, sleepFlag, 1);
      let v = Atomics.load(words, index);
      if (v === seen) {
        this.stats.sleeps++;
        Atomics.wait(words, index, seen, Math.min(SLICE_MS, left));
      }
      Atomics.store(words, sleepFlag, 0);
      v = Atomics.load(words, index);
      if (v !== seen) return v;
    }
  }

  /**
   * The spinning half alone: poll for the budget (if admitted as a spinner) and return the
   * new value, or undefined with the ticket given back. Servers that must not block their
   * worker sleep with Atomics.waitAsync after it.
   */
  spin(words: Int32Array, index: number, seen: number): number | undefined {
    let v = Atomics.load(words, index);
    if (v !== seen) return v;
    if (this.#ticket || this.#admit()) {
      const budget = Atomics.load(this.#runtime, R_SPIN_POLLS);
      for (let i = 0; i < budget; i++) {
        v = Atomics.load(words, index);
        if (v !== seen) {
          this.stats.spins++;
          return v;
        }
      }
      this.release();
    }
    return undefined;
  }

  /**
   * Spin until any `words[indices[k]] !== expected[k]` (futexWait's several words): true when
   * one changed within the budget; false with the ticket given back.
   */
  spinAny(words: Int32Array, indices: readonly number[], expected: readonly number[]): boolean {
    if (!(this.#ticket || this.#admit())) return false;
    const budget = Atomics.load(this.#runtime, R_SPIN_POLLS);
    const n = indices.length;
    for (let i = 0; i < budget; i += n) {
      for (let k = 0; k < n; k++) {
        if (Atomics.load(words, indices[k]!) !== expected[k]) {
          this.stats.spins++;
          return true;
        }
      }
    }
    this.release();
    return false;
  }

  /** Count one sleep (for waits done outside this class). */
  slept(): void {
    this.stats.sleeps++;
  }

  /** Give the spinner ticket back (before sleeping or blocking elsewhere). */
  release(): void {
    if (!this.#ticket) return;
    this.#ticket = false;
    Atomics.sub(this.#runtime, R_SPINNERS, 1);
    Atomics.sub(this.#own, D_TICKET, 1);
  }

  #admit(): boolean {
    const rt = this.#runtime;
    const max = Atomics.load(rt, R_MAX_SPINNERS);
    // Counted on the worker's doorbell first, so a worker that dies mid-admission is still reclaimed.
    Atomics.add(this.#own, D_TICKET, 1);
    for (;;) {
      const n = Atomics.load(rt, R_SPINNERS);
      if (n >= max) {
        Atomics.sub(this.#own, D_TICKET, 1);
        return false;
      }
      if (Atomics.compareExchange(rt, R_SPINNERS, n, n + 1) === n) return (this.#ticket = true);
    }
  }
}

/** Publish a new value and wake the peer only if it said it sleeps. */
export function publish(words: Int32Array, index: number, value: number, sleepFlag: number): void {
  Atomics.store(words, index, value);
  if (Atomics.load(words, sleepFlag) !== 0) Atomics.notify(words, index);
}

/**
 * Polls that fit in `micros` on this thread: time a run of polls once at startup, so the
 * budget follows the machine instead of being a literal.
 */
export function calibratePolls(micros: number): number {
  const probe = new Int32Array(new SharedArrayBuffer(4));
  const n = 200_000;
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink += Atomics.load(probe, 0);
  const perPollUs = Math.max((performance.now() - t0) * 1000 / n, 0.001) + sink;
  return Math.max(100, Math.round(micros / perPollUs));
}
