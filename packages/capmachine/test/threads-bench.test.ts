/** The threads benchmark's quick mode runs end to end (shape only: timing belongs to `npm run bench`). */
import test from 'ava';
import { threadsBench, threadsRatios } from '../bench/threads.bench.js';

test('threads benchmark quick mode: every case reports finite positive medians, and the ratios are computed', async (t) => {
  const results = await threadsBench({ quick: true });
  t.deepEqual(
    results.map((r) => r.name),
    ['raw SAB spin ping-pong 64 B', 'threads cocall 64 B round trip (fast)', 'threads cocall_slow 64 B round trip', 'MessagePort ping-pong 64 B'],
  );
  for (const r of results) {
    t.true(Number.isFinite(r.medianNs) && r.medianNs > 0, r.name);
    t.true(r.p99Ns >= r.medianNs, r.name);
    t.is(r.samples, 2);
  }
  const ratios = threadsRatios(results);
  t.is(Object.keys(ratios).length, 3);
  for (const v of Object.values(ratios)) t.true(Number.isFinite(v) && v > 0);
});
