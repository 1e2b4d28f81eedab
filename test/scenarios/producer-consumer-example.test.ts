import test from 'ava';
import type { RuntimeKind } from '@comsg/libcoproc';
import { runCocarrier } from '../../examples/producer-consumer/cocarrier.js';
import { runCochannel } from '../../examples/producer-consumer/cochannel.js';
import { runCopipe } from '../../examples/producer-consumer/copipe.js';

// The same example programs under both runtimes; the threads runs (seven workers each) go one at a time.
for (const runtime of ['inline', 'threads'] as const satisfies readonly RuntimeKind[]) {
  const define = runtime === 'threads' ? test.serial : test;
  for (const [tag, run] of [['cochannel', runCochannel], ['copipe', runCopipe], ['cocarrier', runCocarrier]] as const) {
    define(`[${runtime}] the ${tag} producer/consumer example: same count, bytes and checksum on both sides`, async (t) => {
      const lines: string[] = [];
      t.is(await run({ runtime, print: (l) => lines.push(l) }), 0, lines.join('\n'));
      t.regex(lines[0]!, new RegExp(`^\\[${tag}\\] consumer\\[\\d+\\]: opened ${tag.toUpperCase()} "stream" in namespace "demo-${tag}"$`));
      t.true(lines.some((l) => new RegExp(`^\\[${tag}\\] producer\\[\\d+\\]: found "stream"; sending 200 messages through a send-only handle$`).test(l)));
      const sent = lines.find((l) => l.includes('producer') && l.includes(' sent '))!.match(/sent (\d+) messages, (\d+) bytes, checksum (0x[0-9a-f]{8})/)!;
      const got = lines.find((l) => l.includes('consumer') && l.includes(' received '))!.match(/received (\d+) messages, (\d+) bytes, checksum (0x[0-9a-f]{8})/)!;
      t.deepEqual(got.slice(1), sent.slice(1));
      t.is(sent[1], '200');
      t.is(lines.at(-1), `[${tag}] checksum OK`);
    });
  }
}
