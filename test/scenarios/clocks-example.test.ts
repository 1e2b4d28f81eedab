import test from 'ava';
import { runClocksExample } from '../../examples/clocks/main.js';

test('the clocks example: plain, traced and capv runs print the expected transcript', async (t) => {
  const lines: string[] = [];
  const failures = await runClocksExample((l) => lines.push(l));
  t.is(failures, 0);
  const text = lines.join('\n');
  // Plain run: answerback and both clocks answered with the clocks reply op.
  t.regex(text, /== clocks client\nclock-client: service says "clocks\(1\), pid \d+, responding to clock_gettime\(\)"/);
  t.is(lines.filter((l) => /^clock-client: CLOCK_(MONOTONIC|REALTIME) -> 48 bytes, op -8, error 0/.test(l)).length, 4);
  // Traced run: three calls, each with an enter and an exit line, decoded.
  const traced = lines.slice(lines.indexOf('== clocks cotrace client (traced)'), lines.indexOf('== clocks capv'));
  t.is(traced.filter((l) => /^cotrace: #\d pid \d+ slot 8 ->/.test(l)).length, 3);
  t.is(traced.filter((l) => /^cotrace: #\d pid \d+ slot 8 <-/.test(l)).length, 3);
  t.true(traced.some((l) => l.endsWith('16 bytes clock_gettime(CLOCK_MONOTONIC)')));
  t.true(traced.some((l) => /<- 48 bytes error=0 ts=\d+\.\d{9}$/.test(l)));
  t.true(traced.some((l) => l.includes('-- via cotrace(1), pid')));
  // capv(1): slot 8 named and answering.
  t.regex(text, /capv: 9 entries\n\s+8 CAPV_CLOCKS\s+"clocks\(1\), pid \d+/);
  t.is(lines.filter((l) => l === '   exit 0').length, 3);
});
