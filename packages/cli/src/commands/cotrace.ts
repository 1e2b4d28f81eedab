/** comsg cotrace: run an example with every cocall traced and decoded. */
import * as E from 'fp-ts/lib/Either.js';
import { COMMON_OPTIONS, type Command } from '../command.js';
import { Exit, printJson } from '../io.js';
import { formatTrace, traceSpace, type TraceRecord } from '../trace.js';
import { EXAMPLE_NAMES, RUNTIME_OPTION, exampleArg, runtimeArg, unavailableOn } from './example-arg.js';

export const cotrace: Command = {
  name: 'cotrace',
  summary: 'run an example and print every cocall enter/exit with op names and decoded arguments',
  usage: `comsg cotrace <${EXAMPLE_NAMES}> [--runtime inline|threads] [--json]`,
  help: [
    'The interposer sits in the switcher of each address space the example creates: every',
    'cocall (fast or slow) is shown on entry with its decoded request — a microkernel op with',
    'its arguments, a capv packet, or its size — and on exit with the decoded reply or errno.',
    'Nested calls (made while serving another) are indented. The example\'s own output is',
    'interleaved.',
    '  --runtime R   inline (default) or threads (the coport examples): on threads each worker',
    '                logs its calls to shared memory and they print shortly after, in call order',
    '  --json        {example, runtime, code, output[], calls: [records], lost}',
  ],
  options: { ...COMMON_OPTIONS, ...RUNTIME_OPTION },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    if (positionals[0] === undefined) return io.err(`comsg cotrace: which example? (${EXAMPLE_NAMES})`), Exit.USAGE;
    const ex = exampleArg(positionals[0], '');
    if (E.isLeft(ex)) return io.err(`comsg cotrace: ${ex.left}`), Exit.USAGE;
    const runtime = runtimeArg('cotrace', values['runtime'], io);
    if (typeof runtime === 'number') return runtime;
    const unavailable = unavailableOn('cotrace', ex.right, runtime, io);
    if (unavailable !== undefined) return unavailable;
    const json = values['json'] === true;
    const records: TraceRecord[] = [];
    const output: string[] = [];
    let lost = 0;
    const code = await ex.right.run({
      runtime,
      print: json ? (l) => void output.push(l) : io.out,
      onSpace: (space) =>
        space.traceCocalls(
          traceSpace(space, (r) => (json ? records.push(r) : io.out(formatTrace(r))), (n) => {
            lost += n;
            if (!json) io.err(`cotrace: ${n} records lost (the trace log stayed full)`);
          }),
        ),
    });
    if (json) printJson(io, { example: ex.right.name, runtime, code, output, calls: records, lost });
    return code === 0 ? Exit.OK : Exit.FAILED;
  },
};
