import test from 'ava';
import { copingArgs, runCoping } from '../../examples/coping/main.js';

for (const runtime of ['inline', 'threads'] as const) {
  for (const slow of [false, true]) {
    test(`the coping example under the ${runtime} runtime${slow ? ' (cocall_slow)' : ''}: one reply per round trip, in order, from the pong co-process`, async (t) => {
      const lines: string[] = [];
      const code = await runCoping({ runtime, count: 5, slow, stdout: (l) => lines.push(l) });
      t.is(code, 0, lines.join('\n'));
      const replies = lines.filter((l) => l.startsWith('8 bytes from pid '));
      t.is(replies.length, 5);
      replies.forEach((l, i) => t.regex(l, new RegExp(`^8 bytes from pid 100: seq=${i} time=\\d+\\.\\d{3} us$`)));
      t.true(lines.includes(`--- pong ${slow ? 'cocall_slow' : 'cocall'} statistics (${runtime} runtime) ---`));
      t.regex(lines.at(-1) ?? '', /^5 round trips, min\/median\/max = [\d.]+\/[\d.]+\/[\d.]+ us$/);
    });
  }
}

test('coping arguments: runtime, count and --slow; bad values are refused', (t) => {
  t.deepEqual(copingArgs(['--runtime', 'threads', '-c', '9', '--slow']), { runtime: 'threads', count: 9, slow: true });
  t.deepEqual(copingArgs([]), { runtime: 'inline', count: 4, slow: false });
  t.throws(() => copingArgs(['--runtime', 'fibers']), { message: /inline or threads/ });
  t.throws(() => copingArgs(['-c', '0']), { message: /positive count/ });
});
