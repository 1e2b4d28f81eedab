/** comsg cotrace: run an example with every cocall traced and decoded. */
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace } from '@comsg/libcoproc';
import { COMMON_OPTIONS, type Command } from '../command.js';
import { Exit, printJson } from '../io.js';
import { formatTrace, traceSpace, type TraceRecord } from '../trace.js';
import { EXAMPLE_NAMES, exampleArg } from './example-arg.js';

export const cotrace: Command = {
  name: 'cotrace',
  summary: 'run an example and print every cocall enter/exit with op names and decoded arguments',
  usage: `comsg cotrace <${EXAMPLE_NAMES}> [--json]`,
  help: [
    'The interposer sits in the switcher of each address space the example creates: every',
    'cocall (fast or slow) is shown on entry with its decoded request — a microkernel op with',
    'its arguments, a capv packet, or its size — and on exit with the decoded reply or errno.',
    'Nested calls (made while serving another) are indented. The example\'s own output is',
    'interleaved.',
    '  --json        {example, code, output[], calls: [records]}',
  ],
  options: { ...COMMON_OPTIONS },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    if (positionals[0] === undefined) return io.err(`comsg cotrace: which example? (${EXAMPLE_NAMES})`), Exit.USAGE;
    const ex = exampleArg(positionals[0], '');
    if (E.isLeft(ex)) return io.err(`comsg cotrace: ${ex.left}`), Exit.USAGE;
    const json = values['json'] === true;
    const records: TraceRecord[] = [];
    const output: string[] = [];
    const code = await ex.right.run({
      print: json ? (l) => void output.push(l) : io.out,
      onSpace: (space) => {
        // The examples cotrace runs are inline: their switcher is on this thread.
        if (space instanceof AddressSpace) space.switcher.tracer = traceSpace(space, (r) => (json ? records.push(r) : io.out(formatTrace(r))));
      },
    });
    if (json) printJson(io, { example: ex.right.name, code, output, calls: records });
    return code === 0 ? Exit.OK : Exit.FAILED;
  },
};
