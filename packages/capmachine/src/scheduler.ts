/**
 * The inline runtime's scheduler: every co-process thread is a task on one JS thread, and
 * exactly one task runs at a time. A task runs until it blocks on a scheduler primitive
 * (yield, sleep, a wait queue) or finishes; the scheduler then picks the next runnable task —
 * in FIFO order, or pseudo-randomly from a seed so property tests can replay interleavings.
 *
 * Time is virtual by default: when nothing can run, the clock jumps to the next timer, so
 * timeouts are deterministic and instant. Before it jumps (or calls a deadlock) the host gets
 * one macrotask, so a wake-up or kill it already had queued lands first. When nothing can run
 * and no timer is pending, the
 * blocked (non-daemon) tasks are deadlocked: their waits end with `deadlock` instead of
 * hanging. A task that awaits something outside the scheduler (I/O, a plain Promise) keeps
 * running concurrently and is not deterministic; inter-task waiting must use wait queues.
 */

export type WakeReason = 'woken' | 'timeout' | 'deadlock' | 'closed';

export interface SchedulerOptions {
  /** Seed for choosing among runnable tasks; omitted = FIFO. */
  readonly seed?: number;
  /** `virtual` (default) jumps time forward when idle; `real` waits for wall-clock timers. */
  readonly clock?: 'virtual' | 'real';
}

type TaskState = 'new' | 'runnable' | 'running' | 'blocked' | 'external' | 'done';

export class Task {
  state: TaskState = 'new';
  /** Resolves the promise the task is parked on. */
  resume: ((reason: WakeReason) => void) | undefined;
  wakeReason: WakeReason = 'woken';
  /** Called when the task parks or finishes, so the driver can move on. */
  onPark: (() => void) | undefined;
  /** The task's current wait (set while it is blocked): interrupts, timers and deadlock end it. */
  blocked: Blocked | undefined;
  /** Daemon tasks (e.g. threads parked in coaccept) do not keep `run()` going. */
  daemon = false;
  /** @internal The current wait's timer, kept on the task (see Scheduler's timer list): its deadline, and its sequence number (-1: none). */
  timerAt = 0;
  timerSeq = -1;
  error: unknown;
  readonly done: Promise<void>;
  #finish!: () => void;

  constructor(
    readonly id: number,
    readonly name: string,
  ) {
    this.done = new Promise((r) => (this.#finish = r));
  }

  /** @internal */
  finished(): void {
    this.state = 'done';
    this.#finish();
  }
}

/**
 * Where a parked task is registered to be woken, when that place lives longer than the wait (the
 * futex table): the wait names the place and its key, instead of a pair of closures per wait.
 */
export interface WaitSite {
  /** Register `wait` at its key(s); the site calls `wait.settle` to wake it. */
  enter(wait: Blocked): void;
  /** Unregister `wait` (its wait ended: woken, timed out, interrupted). */
  leave(wait: Blocked): void;
}

/**
 * One blocked call: settled once — by its waker, its timer, an interrupt or deadlock detection.
 * A class, not an object literal: V8 may decide to allocate a literal's objects straight in the
 * old generation once many of them lived long (threads parked at boot), and a short-lived wait
 * allocated there keeps every young object it points to alive through each young collection.
 * `settle` is a method, not a closure: an inline switch allocated a dozen objects, and the
 * collector took a sixth of a futex ping-pong.
 */
export class Blocked {
  settled = false;
  /** How it leaves its registration: a site (with its key, or keys when there are several), or a function (`block`). */
  site: WaitSite | undefined = undefined;
  key = 0;
  keys: readonly number[] | undefined = undefined;
  unregister: (() => void) | undefined = undefined;

  constructor(
    readonly task: Task,
    readonly settleWith: (wait: Blocked, reason: WakeReason) => void,
  ) {}

  settle(reason: WakeReason): void {
    this.settleWith(this, reason);
  }
}

/** Tasks blocked until woken, with optional timeouts. */
export class WaitQueue {
  readonly #sched: Scheduler;
  readonly #waiters: Array<{ task: Task; settle: (r: WakeReason) => void }> = [];

  constructor(scheduler: Scheduler) {
    this.#sched = scheduler;
  }

  get size(): number {
    return this.#waiters.length;
  }

  /** Block `task` until woken, or for at most `timeoutMs` (negative or undefined: forever). */
  wait(task: Task, timeoutMs?: number): Promise<WakeReason> {
    return this.#sched.block(task, timeoutMs, (settle) => {
      const entry = { task, settle };
      this.#waiters.push(entry);
      return () => {
        const i = this.#waiters.indexOf(entry);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
    });
  }

  /** Wake the longest waiter; returns false if nobody waited. */
  wakeOne(reason: WakeReason = 'woken'): boolean {
    const w = this.#waiters.shift();
    if (w === undefined) return false;
    w.settle(reason);
    return true;
  }

  wakeAll(reason: WakeReason = 'woken'): number {
    const all = this.#waiters.splice(0);
    for (const w of all) w.settle(reason);
    return all.length;
  }
}

export class Scheduler {
  readonly #rng: (() => number) | undefined;
  readonly #clock: 'virtual' | 'real';
  readonly #runnable: Task[] = [];
  readonly #tasks = new Set<Task>();
  /**
   * Pending timeouts as (task, sequence number) pairs in two arrays; an entry is live while its
   * task's timerSeq still equals it (a wait that ends early only resets the task's number, and
   * dead entries are compacted in bulk). No object per timed wait, and none pointing at the
   * wait from a long-lived list (see Blocked for what such objects cost).
   */
  #timerTasks: Task[] = [];
  #timerSeqs: number[] = [];
  #cancelledTimers = 0;
  #timerSeq = 0;
  #virtualNow = 0;
  #nextId = 1;
  #driving: Promise<void> | undefined;
  /**
   * The driver's wake-up for the task it is running: the task's park calls it, and so does
   * the one pending macrotask (see #drive) if the task went off to await something else.
   */
  #resumeDriver: (() => void) | undefined;
  #tickArmed = false;
  /** The task the driver (or #onPark) last set running. */
  #current: Task | undefined;
  #switches = 0;
  /** Whether the host has had a macrotask since the last task ran (see #drive's idle branch). */
  #hostHadTurn = false;

  constructor(options: SchedulerOptions = {}) {
    this.#clock = options.clock ?? 'virtual';
    this.#rng = options.seed === undefined ? undefined : mulberry32(options.seed);
  }

  /** Milliseconds on the scheduler's clock. */
  now(): number {
    return this.#clock === 'virtual' ? this.#virtualNow : performance.now();
  }

  get liveTasks(): number {
    let n = 0;
    for (const t of this.#tasks) if (t.state !== 'done') n++;
    return n;
  }

  /** Create a task; it starts when the scheduler first picks it. */
  spawn(name: string, body: (task: Task) => Promise<void> | void): Task {
    const task = new Task(this.#nextId++, name);
    this.#tasks.add(task);
    const started = new Promise<WakeReason>((r) => (task.resume = r));
    task.state = 'runnable';
    this.#runnable.push(task);
    void started.then(async () => {
      try {
        await body(task);
      } catch (e) {
        task.error = e;
      } finally {
        task.finished();
        this.#tasks.delete(task);
        task.onPark?.();
      }
    });
    this.#kick();
    return task;
  }

  /** Let other runnable tasks go first. */
  yield(task: Task): Promise<WakeReason> {
    return this.block(task, undefined, (settle) => {
      // Immediately runnable again: settle now, the driver picks it in turn.
      settle('woken');
      return () => {};
    });
  }

  sleep(task: Task, ms: number): Promise<WakeReason> {
    return this.block(task, Math.max(0, ms), () => () => {});
  }

  /**
   * Park `task`. `enqueue` registers the task somewhere that will call `settle` to wake it
   * and returns a function that unregisters it (used when a timeout or deadlock wins).
   */
  block(
    task: Task,
    timeoutMs: number | undefined,
    enqueue: (settle: (r: WakeReason) => void) => () => void,
  ): Promise<WakeReason> {
    const wait = this.#blockedFor(task);
    wait.unregister = enqueue((r) => wait.settle(r));
    return this.#park(wait, timeoutMs);
  }

  /** Park `task` at `site` under `key` (or `keys`, when several): the site wakes it through the wait's `settle`. */
  blockAt(task: Task, timeoutMs: number | undefined, site: WaitSite, key: number, keys?: readonly number[]): Promise<WakeReason> {
    const wait = this.#blockedFor(task);
    wait.site = site;
    wait.key = key;
    wait.keys = keys;
    site.enter(wait);
    return this.#park(wait, timeoutMs);
  }

  #blockedFor(task: Task): Blocked {
    if (task.state === 'blocked' || task.state === 'runnable' || task.state === 'done') {
      // Only the running task can block itself; anything else is code using another
      // thread's identity, which would corrupt both tasks' wake-ups. Fail loudly.
      throw new Error(`scheduler: blocking call for task ${task.name} (${task.state}) made from another task`);
    }
    const wait = new Blocked(task, this.#settleWait);
    task.state = 'blocked';
    task.blocked = wait;
    return wait;
  }

  /** The registered wait's promise: its timer, then the switch to the next task (onPark). */
  #park(wait: Blocked, timeoutMs: number | undefined): Promise<WakeReason> {
    const task = wait.task;
    if (!wait.settled && timeoutMs !== undefined && timeoutMs >= 0) {
      const seq = this.#timerSeq++;
      task.timerAt = this.now() + timeoutMs;
      task.timerSeq = seq;
      this.#timerTasks.push(task);
      this.#timerSeqs.push(seq);
    }
    // One shared executor, not a closure per wait: it hands the resolver to the task parking.
    this.#parking = task;
    const parked = new Promise<WakeReason>(this.#takeResolver);
    task.onPark?.();
    return parked;
  }

  #parking: Task | undefined;
  readonly #takeResolver = (resolve: (r: WakeReason) => void): void => {
    const task = this.#parking!;
    this.#parking = undefined;
    // Settled already (enqueue woke it at once, as yield does): runnable, not blocked.
    task.resume = resolve;
  };

  readonly #settleWait = (wait: Blocked, reason: WakeReason): void => this.#settle(wait, reason);

  #settle(wait: Blocked, reason: WakeReason): void {
    if (wait.settled) return;
    wait.settled = true;
    if (wait.site !== undefined) {
      wait.site.leave(wait);
      wait.site = undefined;
    } else {
      wait.unregister?.();
      wait.unregister = undefined;
    }
    const task = wait.task;
    // A task waits once at a time: a timer it has is this wait's (one that fired is already -1).
    if (task.timerSeq >= 0) this.#cancelTimer(task);
    task.blocked = undefined;
    task.wakeReason = reason;
    task.state = 'runnable';
    this.#runnable.push(task);
    this.#kick();
  }

  /** Timers are dropped lazily (a wait that ends early leaves its timer marked), compacted in bulk. */
  #cancelTimer(task: Task): void {
    task.timerSeq = -1;
    if (++this.#cancelledTimers > 64 && this.#cancelledTimers * 2 > this.#timerTasks.length) this.#compactTimers();
  }

  #compactTimers(): void {
    const tasks = this.#timerTasks;
    const seqs = this.#timerSeqs;
    let n = 0;
    for (let i = 0; i < tasks.length; i++) {
      if (tasks[i]!.timerSeq !== seqs[i]) continue;
      tasks[n] = tasks[i]!;
      seqs[n++] = seqs[i]!;
    }
    tasks.length = n;
    seqs.length = n;
    this.#cancelledTimers = 0;
  }

  /** The live timer that fires first (earliest deadline, then earliest set), or -1. */
  #nextTimer(): number {
    const tasks = this.#timerTasks;
    const seqs = this.#timerSeqs;
    let best = -1;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t.timerSeq !== seqs[i]) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const b = tasks[best]!;
      if (t.timerAt < b.timerAt || (t.timerAt === b.timerAt && seqs[i]! < seqs[best]!)) best = i;
    }
    return best;
  }

  /** End `task`'s current wait (if any) with `reason`, e.g. `closed` when its process dies. */
  interrupt(task: Task, reason: WakeReason): boolean {
    const wait = task.blocked;
    if (wait === undefined) return false;
    wait.settle(reason);
    return true;
  }

  /** Wake every blocked task with `reason` (used at shutdown). */
  wakeEverything(reason: WakeReason): void {
    for (const t of [...this.#tasks]) t.blocked?.settle(reason);
  }

  /** Drive until every non-daemon task has finished (deadlocked waits are woken, never hung). */
  run(): Promise<void> {
    this.#kick();
    return this.#driving ?? Promise.resolve();
  }

  /** Wait until the running task parks with nothing else runnable or, failing that, the next macrotask. */
  #untilParkedOrTick(): Promise<void> {
    const parked = new Promise<void>((r) => (this.#resumeDriver = r));
    if (!this.#tickArmed) {
      this.#tickArmed = true;
      setImmediate(this.#tick);
    }
    return parked;
  }

  /**
   * The running task parked (blocked or finished). If another task is runnable, switch to it
   * here and now, in the parking task's own stretch of code, instead of waking the driver to
   * do it: the driver's promise and its microtask were half the cost of an inline switch. The
   * driver wakes only when nothing is runnable, or every 1024 switches (its macrotask).
   * Anything else calling (a task that went off to await something external, blocking later
   * while another runs) finds the running task still running and does nothing.
   */
  readonly #onPark = (): void => {
    const resumeDriver = this.#resumeDriver;
    const current = this.#current;
    if (resumeDriver === undefined || current === undefined || current.state === 'running') return;
    const next = ((this.#switches + 1) & 1023) === 0 ? undefined : this.#takeRunnable();
    if (next === undefined) {
      resumeDriver();
      return;
    }
    this.#switches++;
    this.#start(next);
  };

  /** The next runnable task that has not finished (FIFO, or chosen by the seed), if any. */
  #takeRunnable(): Task | undefined {
    while (this.#runnable.length > 0) {
      // FIFO takes the head without the array splice() allocates for its result.
      const task = this.#rng === undefined ? this.#runnable.shift()! : this.#runnable.splice(Math.floor(this.#rng() * this.#runnable.length), 1)[0]!;
      if (task.state !== 'done') return task;
    }
    return undefined;
  }

  /** Set `task` running and resume it; it runs once the current stretch of code returns. */
  #start(task: Task): void {
    task.state = 'running';
    this.#hostHadTurn = false;
    this.#current = task;
    task.onPark = this.#onPark;
    const resume = task.resume;
    task.resume = undefined;
    resume?.(task.wakeReason);
  }

  readonly #tick = (): void => {
    this.#tickArmed = false;
    this.#resumeDriver?.();
  };

  #kick(): void {
    // #drive clears #driving synchronously when it stops, so a wake-up that arrives after it
    // decided to stop always starts a new driver (a .finally() would leave a stale one).
    if (this.#driving === undefined) this.#driving = this.#drive();
  }

  async #drive(): Promise<void> {
    await null; // let #kick record this driver before it can possibly stop
    for (;;) {
      if (this.#runnable.length > 0) {
        const task = this.#takeRunnable();
        if (task === undefined) continue;
        const parked = this.#untilParkedOrTick();
        this.#start(task);
        // Run until it parks or finishes; if it awaits something outside the scheduler,
        // let it go on concurrently after the microtask queue drains. The macrotask is
        // shared: a task that parks within microtasks costs no timer of its own.
        await parked;
        this.#resumeDriver = undefined;
        // Tasks may have switched among themselves meanwhile (#onPark): the one that ran last.
        const last = this.#current!;
        // Let the event loop breathe now and then (I/O, timers, other tests) in long runs.
        if ((++this.#switches & 1023) === 0) await macrotask();
        if (last.state === 'running') last.state = 'external';
        continue;
      }
      const external = [...this.#tasks].some((t) => t.state === 'external' || t.state === 'running');
      if (!external && !this.#hostHadTurn) {
        // Idle: before jumping the clock or calling it a deadlock, give the host (the code that
        // spawned these tasks, which may be polling a word or about to kill or wake one) one
        // macrotask. Otherwise a virtual timeout could fire "before" a host action that was
        // already due, depending only on how deep the microtask chains happened to be.
        this.#hostHadTurn = true;
        await macrotask();
        continue;
      }
      const i = this.#nextTimer();
      if (i >= 0) {
        const task = this.#timerTasks[i]!;
        const at = task.timerAt;
        if (this.#clock === 'virtual') {
          if (external) {
            await macrotask();
            continue;
          }
          this.#virtualNow = Math.max(this.#virtualNow, at);
        } else {
          const wait = at - performance.now();
          if (wait > 0) {
            // Look again afterwards: the list may have changed (even been compacted) meanwhile.
            await new Promise((r) => setTimeout(r, Math.min(wait, 50)));
            continue;
          }
        }
        // Out of the list first: settling must not count it as cancelled.
        this.#timerTasks.splice(i, 1);
        this.#timerSeqs.splice(i, 1);
        task.timerSeq = -1;
        task.blocked?.settle('timeout');
        continue;
      }
      if (external) {
        await macrotask();
        continue;
      }
      const stuck = [...this.#tasks].filter((t) => t.blocked !== undefined && !t.daemon);
      if (stuck.length === 0) {
        this.#driving = undefined;
        return;
      }
      for (const t of stuck) t.blocked?.settle('deadlock');
    }
  }
}

function macrotask(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Small seeded PRNG (mulberry32): deterministic interleavings from a seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
