import test from 'ava';
import { renderReport, runSuite } from '../bench/suite.js';

// The suite's quick mode, end to end: every section produces finite figures and the report
// renders. No timing is asserted (timing belongs to `npm run bench`).
test('the benchmark suite runs end to end in quick mode', async (t) => {
  const steps: string[] = [];
  const r = await runSuite({ quick: true, progress: (i, n, what) => steps.push(`${i}/${n} ${what}`) });
  t.is(steps.length, 10);
  t.is(steps.at(-1)!.split(' ')[0], '10/10');
  const finite = (x: number) => Number.isFinite(x) && x > 0;
  t.true(r.capmachine.length >= 9 && r.capmachine.every((x) => finite(x.medianNs)));
  for (const name of ['plain call', 'inline cocall 64 B', 'inline cocall_slow', 'raw SAB', 'threads cocall 64', 'threads cocall_slow', 'MessagePort']) {
    t.true(r.cocall.some((x) => x.name.startsWith(name) && finite(x.medianNs)), name);
  }
  const streams = ['COCHANNEL', 'COCHANNEL (cosendSync)', 'COPIPE', 'COCARRIER', 'postMessage clone', 'postMessage transfer', 'unix socket', 'raw SAB ring', 'copy ceiling'];
  for (const stream of [...streams, ...streams.slice(0, 4).map((s) => `threads ${s}`)]) {
    for (const size of ['64 B', '4 KiB', '64 KiB']) {
      const row = r.coports.find((x) => x.name === `${stream} ${size}`);
      t.truthy(row, `${stream} ${size}`);
      t.true(finite(row!.medianMBps) && finite(row!.medianMsgsPerSec), `${stream} ${size}`);
    }
  }
  t.deepEqual([...new Set(r.namespace.map((x) => x.op))], ['coinsert', 'coselect', 'codelete']);
  t.deepEqual([...new Set(r.namespace.map((x) => x.objects))], [1000, 5000]);
  t.deepEqual(r.memory.map((m) => m.what.split(' ')[0]), ['co-process', 'namespace', 'coport', 'coport', 'coport']);
  t.true(r.memory.every((m) => Number.isFinite(m.heapBytes) && m.taggedBytes >= 0));
  t.is(r.endurance.length, 2);
  for (const e of r.endurance) {
    t.is(e.cycles, 2000);
    t.deepEqual(e.invariants, []);
    t.true(e.heapMiB.length >= 10 && e.heapMiB.every((h) => h > 0));
    t.true(e.leftOpen <= 64, 'held resources stay bounded');
  }
  // A steadiness probe before each of the 10 sections and one at the end, alone and paired.
  t.deepEqual(r.steadiness.map((p) => p.before), [...steps.map((x) => x.slice(x.indexOf(' ') + 1)), 'end of run']);
  t.true(r.steadiness.every((p) => finite(p.aloneMs) && finite(p.pairedMs) && finite(p.memoryMs)));
  t.true(r.ratios.length >= 12 && r.ratios.every((x) => Number.isFinite(x.value) && typeof x.met === 'boolean'));
  const text = renderReport(r).join('\n');
  for (const heading of ['## capmachine operations', '## cocall round trips', '## one-way throughput', '## namespace operations', '## memory', '## endurance', '## host steadiness', '## ratios against targets']) t.true(text.includes(heading));
});
