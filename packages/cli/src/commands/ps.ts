/** comsg ps: the co-processes of an example's address spaces, with threads and switcher counts. */
import { COMMON_OPTIONS, type Command } from '../command.js';
import { Exit, printJson, renderTable } from '../io.js';
import { EXAMPLE_NAMES, RUNTIME_OPTION, inspected } from './example-arg.js';

export const ps: Command = {
  name: 'ps',
  summary: 'list co-processes: pids, parents, threads, capv size, grants, calls made/served',
  usage: `comsg ps [${EXAMPLE_NAMES}] [--runtime inline|threads] [--threads] [--json]`,
  help: [
    'Runs the example (default: named-service) and lists every co-process of each address',
    'space it created, as they stand when its programs are done: the daemons still serving,',
    'the example programs exited with their status.',
    '  --threads     one row per thread (tid, registered target name, calls made and served)',
    '  --runtime R   inline (default) or threads (the coport examples; default example cochannel)',
    '  --json        {example, spaces: [{processes: [...]}]}',
  ],
  options: { ...COMMON_OPTIONS, ...RUNTIME_OPTION, threads: { type: 'boolean' } },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    const r = await inspected('ps', positionals[0], io, false, values['runtime']);
    if (typeof r === 'number') return r;
    if (values['json'] === true) {
      printJson(io, { example: r.example, spaces: r.spaces.map((s) => ({ daemons: s.daemons, processes: s.processes })) });
      return Exit.OK;
    }
    r.spaces.forEach((s, i) => {
      if (r.spaces.length > 1) io.out(`${i > 0 ? '\n' : ''}address space ${i + 1} of ${r.spaces.length}`);
      const role = new Map(Object.entries(s.daemons ?? {}).map(([name, pid]) => [pid, name]));
      if (values['threads'] === true) {
        const rows = s.processes.flatMap((p) => p.threads.map((t) => [String(p.pid), String(t.tid), `${p.name}/${t.name}`, t.state, t.registered ?? '-', String(t.made), String(t.served)]));
        for (const l of renderTable(['PID', 'TID', 'THREAD', 'STATE', 'TARGET', 'MADE', 'SERVED'], rows)) io.out(l);
      } else {
        const rows = s.processes.map((p) => [
          String(p.pid),
          String(p.ppid),
          p.name + (role.has(p.pid) ? ' (daemon)' : ''),
          p.exit === undefined ? p.state : `${p.exit.reason} ${p.exit.code}`,
          String(p.threads.length),
          String(p.capc),
          String(p.grants),
          String(p.threads.reduce((a, t) => a + t.made, 0)),
          String(p.threads.reduce((a, t) => a + t.served, 0)),
        ]);
        for (const l of renderTable(['PID', 'PPID', 'NAME', 'STATE', 'THR', 'CAPV', 'GRANTS', 'MADE', 'SERVED'], rows)) io.out(l);
      }
    });
    return Exit.OK;
  },
};
