import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { Scheduler, WaitQueue } from '../src/index.js';
import { FutexTable } from '../src/futex.js';

function within<T>(p: Promise<T>, ms: number): Promise<T | 'TIMEOUT'> {
  return Promise.race([p, new Promise<'TIMEOUT'>((r) => setTimeout(() => r('TIMEOUT'), ms))]);
}

test('regression: a wake-up right as the driver stops is never lost (any microtask offset)', async (t) => {
  for (let offset = 0; offset < 12; offset++) {
    const s = new Scheduler();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let done = false;
    s.spawn('parked', async (task) => {
      task.daemon = true;
      await s.block(task, undefined, (settle) => {
        void gate.then(() => settle('woken'));
        return () => {};
      });
      task.daemon = false;
      done = true;
    });
    void s.run();
    for (let i = 0; i < offset; i++) await null;
    release();
    const r = await within((async () => {
      while (!done) await new Promise((res) => setImmediate(res));
    })(), 1000);
    t.not(r, 'TIMEOUT', `lost wake-up at microtask offset ${offset}`);
  }
});

test('wait queues wake in FIFO order and time out on the virtual clock', async (t) => {
  const s = new Scheduler();
  const q = new WaitQueue(s);
  const order: string[] = [];
  for (const name of ['a', 'b']) {
    s.spawn(name, async (task) => {
      order.push(`${name}:${await q.wait(task, 1000)}`);
    });
  }
  s.spawn('waker', async (task) => {
    await s.sleep(task, 10);
    q.wakeOne();
  });
  await s.run();
  t.deepEqual(order, ['a:woken', 'b:timeout']);
  t.is(s.now(), 1000);
});

testProp(
  'timeouts fire at their deadlines in order (ties in the order set), and a wait woken first never times out later',
  [fc.array(fc.record({ timeout: fc.integer({ min: 0, max: 50 }), wokenAt: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }) }), { minLength: 1, maxLength: 12 })],
  async (t, waits) => {
    const s = new Scheduler();
    const queues = waits.map(() => new WaitQueue(s));
    const log: string[] = [];
    waits.forEach((w, i) => {
      s.spawn(`w${i}`, async (task) => {
        // Each waiter waits twice: a woken first wait must leave no timer behind for the second.
        const first = await queues[i]!.wait(task, w.timeout);
        log.push(`${s.now()} w${i} ${first}`);
        if (first === 'woken') {
          const again = await queues[i]!.wait(task, 100);
          log.push(`${s.now()} w${i} again ${again}`);
        }
      });
      if (w.wokenAt !== undefined) {
        s.spawn(`k${i}`, async (task) => {
          await s.sleep(task, w.wokenAt!);
          queues[i]!.wakeOne();
        });
      }
    });
    await s.run();
    // The model: a wait ends at min(timeout, wake time) — a wake at the deadline itself comes
    // second, since the waiter's timer was set before the waker's sleep timer.
    const expected = waits
      .flatMap((w, i) => {
        const woken = w.wokenAt !== undefined && w.wokenAt < w.timeout;
        const first = { at: woken ? w.wokenAt! : w.timeout, line: `w${i} ${woken ? 'woken' : 'timeout'}` };
        return woken ? [first, { at: w.wokenAt! + 100, line: `w${i} again timeout` }] : [first];
      })
      .map((e) => ({ ...e, line: `${e.at} ${e.line}` }));
    t.deepEqual([...log].sort(), expected.map((e) => e.line).sort());
    // Timeouts that fall at one instant fire in the order their waits were set.
    const timeouts = log.filter((l) => l.endsWith(' timeout') && !l.includes('again'));
    for (let k = 1; k < timeouts.length; k++) {
      const [a, b] = [timeouts[k - 1]!, timeouts[k]!].map((l) => ({ at: Number(l.split(' ')[0]), i: Number(l.split(' ')[1]!.slice(1)) }));
      t.true(a!.at < b!.at || (a!.at === b!.at && a!.i < b!.i), `${timeouts[k - 1]} before ${timeouts[k]}`);
    }
  },
  { numRuns: 60 },
);

test('tasks that switch among themselves still let the event loop run: a macrotask queued at the start lands long before 5 000 switches end', async (t) => {
  const s = new Scheduler();
  const q = [new WaitQueue(s), new WaitQueue(s)];
  let switches = 0;
  let hostRanAt = -1;
  setImmediate(() => (hostRanAt = switches));
  for (const me of [0, 1]) {
    s.spawn(`p${me}`, async (task) => {
      // Each wakes the other and waits for its turn; the last waits end in deadlock.
      for (let i = 0; i < 2_500; i++) {
        switches++;
        q[1 - me]!.wakeOne();
        await q[me]!.wait(task);
      }
    });
  }
  await s.run();
  t.is(switches, 5_000);
  t.true(hostRanAt >= 0 && hostRanAt <= 1_100, `the host ran after ${hostRanAt} switches`);
});

test('the host gets a turn before the clock jumps: a wake-up it already had due beats a virtual timeout', async (t) => {
  const s = new Scheduler();
  const q = new WaitQueue(s);
  const got: string[] = [];
  // The host's next macrotask is queued before the task even blocks.
  const hostTurn = new Promise<void>((r) => setImmediate(r)).then(() => q.wakeOne());
  s.spawn('sleeper', async (task) => void got.push(await q.wait(task, 60_000)));
  await s.run();
  t.true(await hostTurn, 'the host found the sleeper still waiting');
  t.deepEqual(got, ['woken']);
  t.is(s.now(), 0, 'no virtual time passed');
});

test('blocked tasks with nothing to wake them end in deadlock, not a hang', async (t) => {
  const s = new Scheduler();
  const q = new WaitQueue(s);
  const got: string[] = [];
  s.spawn('x', async (task) => void got.push(await q.wait(task)));
  s.spawn('y', async (task) => void got.push(await q.wait(task, -1)));
  t.not(await within(s.run(), 1000), 'TIMEOUT');
  t.deepEqual(got, ['deadlock', 'deadlock']);
});

test('futex words: a wake reaches exactly the threads still waiting on that word, and counts them', async (t) => {
  const s = new Scheduler();
  const f = new FutexTable(s);
  const got: string[] = [];
  const counts: number[] = [];
  s.spawn('a', async (task) => void got.push(`a:${await f.wait(task, [1], undefined)}`));
  s.spawn('b', async (task) => void got.push(`b:${await f.wait(task, [1, 2], undefined)}`));
  s.spawn('c', async (task) => void got.push(`c:${await f.wait(task, [2], 5)}`));
  s.spawn('waker', async (task) => {
    await s.sleep(task, 10); // c has timed out by now and left word 2
    counts.push(f.wake(2)); // b only
    await s.yield(task);
    counts.push(f.wake(1)); // a only: b left word 1 when word 2 woke it
    counts.push(f.wake(1)); // nobody
  });
  await s.run();
  t.deepEqual(counts, [1, 1, 0]);
  t.deepEqual(got, ['c:timeout', 'b:woken', 'a:woken']);
});

test('futex words: a word waited on and woken over and over wakes its one waiter every time', async (t) => {
  const s = new Scheduler();
  const f = new FutexTable(s);
  const rounds = 500;
  let turn = 0;
  const woke = [0, 0];
  for (const me of [0, 1]) {
    s.spawn(`p${me}`, async (task) => {
      for (let i = 0; i < rounds; i++) {
        while (turn !== me) await f.wait(task, [10 + me], 60_000);
        turn = 1 - me;
        woke[me]! += f.wake(10 + (1 - me));
      }
    });
  }
  await s.run();
  // Every hand-off found its peer parked on the word, but the first (the peer had not started)
  // and the last (the peer had finished).
  t.is(woke[0]! + woke[1]!, 2 * rounds - 2);
  t.is(s.now(), 0, 'no wait timed out');
});

test('futex words: a wait that ends otherwise (interrupted, timed out) leaves its words, so a later wake finds nobody there', async (t) => {
  const s = new Scheduler();
  const f = new FutexTable(s);
  const got: string[] = [];
  const counts: number[] = [];
  const a = s.spawn('a', async (task) => void got.push(`a:${await f.waitOne(task, 7, undefined)}`));
  s.spawn('b', async (task) => void got.push(`b:${await f.wait(task, [7, 8], 5)}`));
  s.spawn('host', async (task) => {
    await s.yield(task);
    t.true(s.interrupt(a, 'closed'));
    t.false(s.interrupt(a, 'closed'), 'a wait ends once');
    await s.sleep(task, 10); // b has timed out by now
    counts.push(f.wake(7), f.wake(8));
  });
  await s.run();
  t.deepEqual(got, ['a:closed', 'b:timeout']);
  t.deepEqual(counts, [0, 0]);
});
