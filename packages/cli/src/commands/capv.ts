/** comsg capv: every capability vector, each target asked who it is (capv(1) from outside). */
import { COMMON_OPTIONS, type Command } from '../command.js';
import { Exit, printJson, renderTable } from '../io.js';
import { EXAMPLE_NAMES, RUNTIME_OPTION, inspected } from './example-arg.js';

export const capv: Command = {
  name: 'capv',
  summary: 'list capability vectors: slots, what each holds, and each target\'s answerback',
  usage: `comsg capv [${EXAMPLE_NAMES}] [--runtime inline|threads] [--json]`,
  help: [
    'Runs the example (default: named-service) and lists every non-empty capv slot of each',
    'co-process: the slot\'s well-known name, the capability, and for a switcher target the',
    'thread it names and its answer to op 0 (answerback), asked with a bounded wait.',
    '  --runtime R   inline (default) or threads (coport examples): slots by kind, no answerbacks',
    '  --json        {example, spaces: [{capv: [...]}]}',
  ],
  options: { ...COMMON_OPTIONS, ...RUNTIME_OPTION },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    const r = await inspected('capv', positionals[0], io, true, values['runtime']);
    if (typeof r === 'number') return r;
    if (values['json'] === true) {
      printJson(io, { example: r.example, spaces: r.spaces.map((s) => ({ capv: s.capv })) });
      return Exit.OK;
    }
    r.spaces.forEach((s, i) => {
      if (r.spaces.length > 1) io.out(`${i > 0 ? '\n' : ''}address space ${i + 1} of ${r.spaces.length}`);
      const rows = s.capv.map((c) => [
        String(c.pid),
        c.process,
        String(c.slot),
        c.slotName,
        c.kind === 'target' && c.target !== undefined ? `target of ${c.target.pid}/${c.target.tid}${c.target.name === undefined ? '' : ` "${c.target.name}"`}` : `${c.kind} ${c.capability}`,
        c.answerback !== undefined ? JSON.stringify(c.answerback) : c.error !== undefined ? `(${c.error})` : '-',
      ]);
      if (rows.length === 0) io.out('(no capability vectors)');
      else for (const l of renderTable(['PID', 'PROCESS', 'SLOT', 'NAME', 'HOLDS', 'ANSWERBACK'], rows)) io.out(l);
    });
    return Exit.OK;
  },
};
