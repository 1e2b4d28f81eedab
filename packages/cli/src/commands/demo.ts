/** comsg demo: run a producer/consumer demo (or another example) and report its result. */
import * as E from 'fp-ts/lib/Either.js';
import { COMMON_OPTIONS, type Command } from '../command.js';
import { Exit, printJson } from '../io.js';
import { EXAMPLE_NAMES, RUNTIME_OPTION, exampleArg, runtimeArg, unavailableOn } from './example-arg.js';

export const demo: Command = {
  name: 'demo',
  summary: 'run a coport producer/consumer demo (or another example)',
  usage: `comsg demo [${EXAMPLE_NAMES}] [--runtime inline|threads] [--json]`,
  help: [
    'Runs the example (default: cochannel) and prints its transcript; the exit status is 0 when',
    'producer and consumer agree on message count, bytes and checksum.',
    '  --runtime R   inline (default) or threads: every co-process — coprocd, each daemon, the',
    '                producer and the consumer — on its own worker thread over one shared memory.',
    '                The coport demos run under both; named-service and clocks are inline only.',
    '  --json        {example, runtime, code, output[]} instead of the transcript',
  ],
  options: { ...COMMON_OPTIONS, ...RUNTIME_OPTION },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    const ex = exampleArg(positionals[0], 'cochannel');
    if (E.isLeft(ex)) return io.err(`comsg demo: ${ex.left}`), Exit.USAGE;
    const runtime = runtimeArg('demo', values['runtime'], io);
    if (typeof runtime === 'number') return runtime;
    const unavailable = unavailableOn('demo', ex.right, runtime, io);
    if (unavailable !== undefined) return unavailable;
    const output: string[] = [];
    const json = values['json'] === true;
    const code = await ex.right.run({ runtime, print: json ? (l) => void output.push(l) : io.out });
    if (json) printJson(io, { example: ex.right.name, runtime, code, output });
    return code === 0 ? Exit.OK : Exit.FAILED;
  },
};
