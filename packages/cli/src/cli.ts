/**
 * comsg(1): one entry point, one module per subcommand. Parsing is node:util's parseArgs
 * (strict: unknown options are usage errors); every command answers `--help`.
 */
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { capv } from './commands/capv.js';
import { coping } from './commands/coping.js';
import { cotrace } from './commands/cotrace.js';
import { demo } from './commands/demo.js';
import { ns } from './commands/ns.js';
import { ps } from './commands/ps.js';
import { quota } from './commands/quota.js';
import { ExamplesUnavailable } from './examples.js';
import { Exit, renderTable, type Io } from './io.js';

export const COMMANDS: readonly Command[] = [demo, coping, cotrace, ps, capv, ns, quota];

function overview(io: Io): void {
  io.out('usage: comsg <command> [options]');
  io.out('');
  for (const l of renderTable(['COMMAND', 'WHAT IT DOES'], COMMANDS.map((c) => [c.name, c.summary]))) io.out(`  ${l}`);
  io.out('');
  io.out('`comsg <command> --help` for a command\'s options. Exit status: 0 ok, 1 the run failed,');
  io.out('2 bad usage, 69 not available on this runtime, 70 internal error.');
}

function commandHelp(io: Io, c: Command): void {
  io.out(`usage: ${c.usage}`);
  io.out('');
  io.out(c.summary);
  for (const l of c.help) io.out(l);
}

/** Run `comsg argv…`; resolves to the exit status. Never throws. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (topic !== undefined) commandHelp(io, topic);
    else overview(io);
    return name === undefined ? Exit.USAGE : Exit.OK;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (cmd === undefined) {
    io.err(`comsg: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see comsg --help)`);
    return Exit.USAGE;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options: cmd.options, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`comsg ${cmd.name}: ${e instanceof Error ? e.message : String(e)}`);
    io.err(`usage: ${cmd.usage}`);
    return Exit.USAGE;
  }
  if (parsed.values['help'] === true) {
    commandHelp(io, cmd);
    return Exit.OK;
  }
  if (parsed.positionals.length > cmd.maxPositionals) {
    io.err(`comsg ${cmd.name}: too many arguments`);
    io.err(`usage: ${cmd.usage}`);
    return Exit.USAGE;
  }
  try {
    return await cmd.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals }, io);
  } catch (e) {
    if (e instanceof ExamplesUnavailable) {
      io.err(`comsg ${cmd.name}: ${e.message}`);
      return Exit.UNAVAILABLE;
    }
    io.err(`comsg ${cmd.name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return Exit.SOFTWARE;
  }
}
