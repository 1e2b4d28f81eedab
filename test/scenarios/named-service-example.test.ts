import test from 'ava';
import { runNamedServiceExample } from '../../examples/named-service/main.js';

test('the named-service example: one provider, two clients, fair workers, typed errors', async (t) => {
  const lines: string[] = [];
  t.is(await runNamedServiceExample((l) => lines.push(l)), 0);
  t.regex(lines[0]!, /^microkernel up: nsd pid \d+, coserviced pid \d+, coeventd pid \d+$/);
  t.true(lines.some((l) => /^provider\[\d+\]: published coservice "forecast" with 3 workers$/.test(l)));
  const forecasts = lines.filter((l) => /^client-[ab]\[\d+\]: forecast #\d+ for \w+: sunny \(worker [123]\)$/.test(l));
  t.is(forecasts.length, 6);
  // Fair round robin across both clients: each worker answered exactly twice.
  for (const w of [1, 2, 3]) t.is(forecasts.filter((l) => l.endsWith(`(worker ${w})`)).length, 2);
  t.is(lines.filter((l) => l.endsWith('coselect "tides" -> ENOENT')).length, 2);
  t.is(lines.at(-1), 'named-service: OK');
});
