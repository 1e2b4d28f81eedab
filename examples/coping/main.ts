/**
 * coping under either runtime:
 *   node --conditions=comsg:source --import=tsx examples/coping/main.ts [--runtime inline|threads] [-c N] [--slow]
 */
import { createAddressSpace, type RuntimeKind } from '@comsg/capmachine';

export interface CopingOptions {
  readonly runtime?: RuntimeKind;
  readonly count?: number;
  readonly slow?: boolean;
  /** Names of the targets to start and ping, one pong co-process each (default: "pong"). */
  readonly targets?: readonly string[];
  readonly stdout?: (line: string) => void;
}

export async function runCoping(options: CopingOptions = {}): Promise<number> {
  const runtime = options.runtime ?? 'inline';
  const space = createAddressSpace({ runtime, ...(options.stdout === undefined ? {} : { stdout: options.stdout }) });
  const module = new URL('./programs.ts', import.meta.url).href;
  const slow = options.slow === true ? ['slow'] : [];
  const targets = options.targets ?? ['pong'];
  for (const name of targets) space.spawn({ module, export: 'pong', name: 'pong' }, { argv: ['pong', name, ...slow] });
  let code = 0;
  for (const name of targets) {
    const ping = space.spawn({ module, export: 'ping', name: 'ping' }, { argv: ['ping', name, String(options.count ?? 4), ...slow] });
    const status = await ping.exited;
    if (status.code !== 0) console.error(`ping ${name} ended: ${status.reason} ${String(status.error ?? '')}`);
    code ||= status.code;
  }
  await space.shutdown();
  return code;
}

/** `--runtime threads`, `-c 8`, `--slow` from argv. */
export function copingArgs(argv: readonly string[]): { runtime: RuntimeKind; count: number; slow: boolean } {
  const at = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runtime = at('--runtime') ?? 'inline';
  if (runtime !== 'inline' && runtime !== 'threads') throw new Error(`--runtime must be inline or threads, not ${runtime}`);
  const count = Number(at('-c') ?? '4');
  if (!Number.isInteger(count) || count < 1) throw new Error(`-c needs a positive count`);
  return { runtime, count, slow: argv.includes('--slow') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCoping(copingArgs(process.argv.slice(2)));
}
