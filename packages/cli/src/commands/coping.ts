/** comsg coping: CheriBSD's coping(1) — round trips to one or more targets, each timed. */
import { COMMON_OPTIONS, type Command } from '../command.js';
import { loadCoping } from '../examples.js';
import { Exit, printJson } from '../io.js';
import { RUNTIME_OPTION, runtimeArg } from './example-arg.js';

const REPLY = /^(\d+) bytes from pid (\d+): seq=(\d+) time=([\d.]+) us$/;
const STATS = /^--- (\S+) (cocall|cocall_slow) statistics/;

export const coping: Command = {
  name: 'coping',
  summary: 'time cocall round trips to targets, like CheriBSD coping(1)',
  usage: 'comsg coping [-c N] [--slow] [--runtime inline|threads] [--json] [target ...]',
  help: [
    'Starts one pong co-process per target name (default: pong) and a ping co-process that',
    'makes N round trips to each, printing every reply and min/median/max per target.',
    '  -c N          round trips per target (default 4)',
    '  --slow        use cocall_slow (through the kernel; on threads, by postMessage)',
    '  --runtime R   inline (default) or threads (every co-process on its own worker thread)',
    '  --json        {runtime, slow, targets: [{target, pid, rtts_us[]}]}',
  ],
  options: { ...COMMON_OPTIONS, count: { type: 'string', short: 'c', default: '4' }, slow: { type: 'boolean' }, ...RUNTIME_OPTION },
  maxPositionals: 16,
  async run({ values, positionals }, io) {
    const count = Number(values['count']);
    if (!Number.isInteger(count) || count < 1 || count > 1_000_000) return io.err(`comsg coping: -c needs a count from 1 to 1000000, not ${String(values['count'])}`), Exit.USAGE;
    const runtime = runtimeArg('coping', values['runtime'], io);
    if (typeof runtime === 'number') return runtime;
    const targets = positionals.length > 0 ? [...positionals] : ['pong'];
    const bad = targets.find((t) => !/^[A-Za-z0-9._-]{1,64}$/.test(t));
    if (bad !== undefined) return io.err(`comsg coping: target name "${bad}" must be 1-64 of A-Z a-z 0-9 . _ -`), Exit.USAGE;
    if (new Set(targets).size !== targets.length) return io.err('comsg coping: each target may be named once'), Exit.USAGE;
    const json = values['json'] === true;
    const slow = values['slow'] === true;
    const lines: string[] = [];
    const runCoping = await loadCoping();
    const code = await runCoping({ runtime, count, slow, targets, stdout: json ? (l) => void lines.push(l) : io.out });
    if (json) {
      // ping prints each target's replies, then that target's statistics line.
      const results: Array<{ target: string; pid: number; rtts_us: number[] }> = [];
      let current: { pid: number; rtts_us: number[] } = { pid: -1, rtts_us: [] };
      for (const l of lines) {
        const r = REPLY.exec(l);
        if (r !== null) {
          current.pid = Number(r[2]);
          current.rtts_us.push(Number(r[4]));
        }
        const s = STATS.exec(l);
        if (s !== null) {
          results.push({ target: s[1]!, ...current });
          current = { pid: -1, rtts_us: [] };
        }
      }
      printJson(io, { runtime, slow, count, code, targets: results });
    }
    return code === 0 ? Exit.OK : Exit.FAILED;
  },
};
