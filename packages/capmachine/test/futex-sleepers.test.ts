/**
 * The threads runtime's sleeper counts (threads/futex-sleepers.ts): a waker notifies only while
 * a bucket counts someone, and a waiter it woke is counted out by the waker at once, so a
 * sender streaming past a waiter that has not run yet pays no further notifies.
 */
import test from 'ava';
import { FutexSleepers } from '../src/threads/futex-sleepers.js';
import { FUTEX_BUCKETS, R_FUTEX_SLEEPERS, R_WORDS } from '../src/threads/layout.js';

function setup() {
  const runtime = new Int32Array(new SharedArrayBuffer(R_WORDS * 4));
  const words = new Int32Array(new SharedArrayBuffer(64 * 4));
  const count = (word: number) => Atomics.load(runtime, R_FUTEX_SLEEPERS + (word & (FUTEX_BUCKETS - 1)));
  return { sleepers: new FutexSleepers(runtime), words, count };
}

const after = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a notify counts out the waiters it woke at once, and they do not count themselves out again', async (t) => {
  const { sleepers, words, count } = setup();
  const first = sleepers.sleep(words, [3], [0], 10_000);
  const second = sleepers.sleep(words, [3], [0], 10_000);
  t.is(count(3), 2, 'both counted in while queued');
  words[3] = 1;
  t.is(sleepers.wake(words, 3), 2);
  t.is(count(3), 0, 'counted out by the waker before either has run');
  t.is(sleepers.wake(words, 3), 0, 'a later wake finds nobody counted: no notify');
  t.deepEqual(await Promise.all([first, second]), ['ok', 'ok']);
  t.is(count(3), 0, 'a woken waiter leaves the count as the waker left it');
});

test('a wait that times out, or finds the word changed, counts itself out', async (t) => {
  const { sleepers, words, count } = setup();
  t.is(await sleepers.sleep(words, [5], [0], 5), 'timed-out');
  t.is(count(5), 0);
  t.is(await sleepers.sleep(words, [5], [7], 1_000), 'not-equal');
  t.is(count(5), 0);
});

test('several words: the one that fires is counted out by its waker, the others when their waits expire', async (t) => {
  const { sleepers, words, count } = setup();
  const slept = sleepers.sleep(words, [8, 9], [0, 0], 40);
  t.is(count(8), 1);
  t.is(count(9), 1);
  words[8] = 1;
  t.is(sleepers.wake(words, 8), 1);
  t.is(await slept, 'ok');
  t.is(count(8), 0);
  t.is(count(9), 1, 'the wait on the word that did not fire is still queued, and still counted');
  t.is(sleepers.wake(words, 9), 1, 'so a wake on it still notifies');
  t.is(count(9), 0);
  await after(80);
  t.is(count(9), 0, 'never counted out twice');
});

test('a word that already differs queues no wait on the words after it', async (t) => {
  const { sleepers, words, count } = setup();
  words[10] = 2;
  t.is(await sleepers.sleep(words, [10, 11], [0, 0], 1_000), 'not-equal');
  t.is(count(10), 0);
  t.is(count(11), 0);
  t.is(Atomics.notify(words, 11), 0, 'nothing queued on the second word');
});
