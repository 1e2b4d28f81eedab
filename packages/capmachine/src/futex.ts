/**
 * Futexes for the inline runtime: a thread blocks until a 32-bit word in memory changes,
 * keyed by the word's address. Shared-memory protocols (coport rings, pipes) publish a state
 * change by bumping a word and waking its waiters; waiters re-check after every wake-up. The
 * threads runtime maps the same calls onto Atomics.wait/notify.
 */
import type { Scheduler, Task, WakeReason } from './scheduler.js';

const PRUNE_AT = 1024;

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
        for (const a of addresses) this.#waiters.get(a)?.delete(settle);
        // Empty sets stay (a streaming port's word is waited on again at once); prune now and then.
        if (this.#waiters.size > PRUNE_AT) for (const [a, set] of this.#waiters) if (set.size === 0) this.#waiters.delete(a);
      };
    });
  }

  /** Wake every waiter on `address`; returns how many were waiting. */
  wake(address: number): number {
    const set = this.#waiters.get(address);
    if (set === undefined) return 0;
    // Each settle removes itself from the set (deleting visited entries is safe mid-iteration).
    let n = 0;
    for (const settle of set) {
      settle('woken');
      n++;
    }
    return n;
  }
}
