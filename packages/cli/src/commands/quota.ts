/** comsg quota: per-co-process resource accounting against the daemons' quotas. */
import { COMMON_OPTIONS, type Command } from '../command.js';
import { Exit, printJson, renderTable } from '../io.js';
import { EXAMPLE_NAMES, RUNTIME_OPTION, inspected } from './example-arg.js';

export interface QuotaRow {
  readonly pid: number;
  readonly name: string;
  readonly namespaces: number;
  readonly objects: number;
  readonly ports: number;
}

export const quota: Command = {
  name: 'quota',
  summary: 'show what each co-process holds against its quotas (namespaces, objects, coports)',
  usage: `comsg quota [${EXAMPLE_NAMES}] [--runtime inline|threads] [--json]`,
  help: [
    'Runs the example (default: named-service) and lists, per co-process, the live namespaces',
    'and objects it created in nsd and the coports it holds in ipcd, with each quota. A call',
    'past a quota fails with EDQUOT; the whole table being full is ENOSPC.',
    '  --runtime R   inline (default) or threads (coport examples): nsd and ipcd answer from their workers',
    '  --json        {example, quota: {namespaces, objects, ports}, rows: [...]}',
  ],
  options: { ...COMMON_OPTIONS, ...RUNTIME_OPTION },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    const r = await inspected('quota', positionals[0], io, false, values['runtime']);
    if (typeof r === 'number') return r;
    const s = r.spaces.find((x) => x.microkernel?.nsd !== undefined);
    const k = s?.microkernel;
    if (s === undefined || k?.nsd === undefined || k.ipcd === undefined) {
      io.err(`comsg quota: example ${r.example} does not boot the microkernel`);
      return Exit.UNAVAILABLE;
    }
    const names = new Map(s.processes.map((p) => [p.pid, p.name]));
    const pids = new Set([...Object.keys(k.nsd.usage), ...Object.keys(k.ipcd.portsByPid)].map(Number));
    const rows: QuotaRow[] = [...pids]
      .sort((a, b) => a - b)
      .map((pid) => ({
        pid,
        name: names.get(pid) ?? '?',
        namespaces: k.nsd!.usage[pid]?.namespaces ?? 0,
        objects: k.nsd!.usage[pid]?.objects ?? 0,
        ports: k.ipcd!.portsByPid[pid] ?? 0,
      }));
    const limits = { namespaces: k.nsd.quota.namespaces, objects: k.nsd.quota.objects, ports: k.ipcd.portsPerProcess };
    if (values['json'] === true) {
      printJson(io, { example: r.example, quota: limits, rows });
      return Exit.OK;
    }
    const cell = (n: number, of: number) => `${n}/${of}`;
    const table = rows.map((x) => [String(x.pid), x.name, cell(x.namespaces, limits.namespaces), cell(x.objects, limits.objects), cell(x.ports, limits.ports)]);
    for (const l of renderTable(['PID', 'NAME', 'NAMESPACES', 'OBJECTS', 'COPORTS'], table)) io.out(l);
    io.out(`\ntables: ${k.nsd.namespaces}/${k.nsd.limits.namespaces} namespaces, ${k.nsd.objects}/${k.nsd.limits.objects} objects in nsd; open coports ${Object.values(k.ipcd.open).reduce((a, b) => a + b, 0)}`);
    return Exit.OK;
  },
};
