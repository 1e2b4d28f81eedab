/**
 * Futexes for the inline runtime: a thread blocks until a 32-bit word in memory changes,
 * keyed by the word's address. Shared-memory protocols (coport rings, pipes) publish a state
 * change by bumping a word and waking its waiters; waiters re-check after every wake-up. The
 * threads runtime maps the same calls onto Atomics.wait/notify.
 */
import type { Blocked, Scheduler, Task, WaitSite, WakeReason } from './scheduler.js';

const PRUNE_AT = 1024;

/**
 * The waiters on one word: a slot array that is reused, never rehashed. A Set here cost a
 * new hash table on almost every wait (it shrinks when emptied), and each retired table
 * links to its successor, so one that outlived a scavenge dragged the next ones — and the
 * waiters they held — into the old generation: a COPIPE rendezvous spent a third of its
 * time in the garbage collector.
 */
class WordWaiters {
  readonly slots: Array<Blocked | undefined> = [];
  count = 0;

  add(wait: Blocked): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      if (slots[i] === undefined) {
        slots[i] = wait;
        this.count++;
        return;
      }
    }
    slots.push(wait);
    this.count++;
  }

  remove(wait: Blocked): void {
    const i = this.slots.indexOf(wait);
    if (i < 0) return;
    this.slots[i] = undefined;
    this.count--;
  }
}

export class FutexTable implements WaitSite {
  readonly #waiters = new Map<number, WordWaiters>();
  readonly #sched: Scheduler;

  constructor(scheduler: Scheduler) {
    this.#sched = scheduler;
  }

  /** Block `task` until any of `addresses` is woken, or `timeoutMs` passes (negative: never). */
  wait(task: Task, addresses: readonly number[], timeoutMs: number | undefined): Promise<WakeReason> {
    return addresses.length === 1 ? this.#sched.blockAt(task, timeoutMs, this, addresses[0]!) : this.#sched.blockAt(task, timeoutMs, this, -1, addresses);
  }

  /** wait for one word: the common case, with no array. */
  waitOne(task: Task, address: number, timeoutMs: number | undefined): Promise<WakeReason> {
    return this.#sched.blockAt(task, timeoutMs, this, address);
  }

  /** @internal WaitSite: the scheduler registers a wait here (blockAt). */
  enter(wait: Blocked): void {
    if (wait.keys === undefined) this.#waitersAt(wait.key).add(wait);
    else for (const a of wait.keys) this.#waitersAt(a).add(wait);
  }

  /** @internal WaitSite: the wait ended. */
  leave(wait: Blocked): void {
    if (wait.keys === undefined) this.#waiters.get(wait.key)?.remove(wait);
    else for (const a of wait.keys) this.#waiters.get(a)?.remove(wait);
    // Emptied words stay (a streaming port's word is waited on again at once); prune now and then.
    if (this.#waiters.size > PRUNE_AT) for (const [a, w] of this.#waiters) if (w.count === 0) this.#waiters.delete(a);
  }

  #waitersAt(address: number): WordWaiters {
    let w = this.#waiters.get(address);
    if (w === undefined) this.#waiters.set(address, (w = new WordWaiters()));
    return w;
  }

  /** Wake every waiter on `address`; returns how many were waiting. */
  wake(address: number): number {
    const w = this.#waiters.get(address);
    if (w === undefined || w.count === 0) return 0;
    // Each settle empties its own slot; a waiter added meanwhile (not possible inline, as
    // settling only marks a task runnable) would take a slot past `end` or a freed one.
    const slots = w.slots;
    const end = slots.length;
    let n = 0;
    for (let i = 0; i < end; i++) {
      const wait = slots[i];
      if (wait === undefined) continue;
      wait.settle('woken');
      n++;
    }
    return n;
  }
}
