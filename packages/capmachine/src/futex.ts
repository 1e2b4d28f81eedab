/**
 * Futexes for the inline runtime: a thread blocks until a 32-bit word in memory changes,
 * keyed by the word's address. Shared-memory protocols (coport rings, pipes) publish a state
 * change by bumping a word and waking its waiters; waiters re-check after every wake-up. The
 * threads runtime maps the same calls onto Atomics.wait/notify.
 */
import type { Scheduler, Task, WakeReason } from './scheduler.js';

export class FutexTable {
  readonly #waiters = new Map<number, Set<(r: WakeReason) => void>>();
  readonly #sched: Scheduler;

  constructor(scheduler: Scheduler) {
    this.#sched = scheduler;
  }

  /** Block `task` until any of `addresses` is woken, or `timeoutMs` passes (negative: never). */
  wait(task: Task, addresses: readonly number[], timeoutMs: number | undefined): Promise<WakeReason> {
    return this.#sched.block(task, timeoutMs, (settle) => {
      for (const a of addresses) {
        let set = this.#waiters.get(a);
        if (set === undefined) this.#waiters.set(a, (set = new Set()));
        set.add(settle);
      }
      return () => {
        for (const a of addresses) {
          const set = this.#waiters.get(a);
          set?.delete(settle);
          if (set?.size === 0) this.#waiters.delete(a);
        }
      };
    });
  }

  /** Wake every waiter on `address`; returns how many were waiting. */
  wake(address: number): number {
    const set = this.#waiters.get(address);
    if (set === undefined) return 0;
    const all = [...set];
    for (const settle of all) settle('woken');
    return all.length;
  }
}
