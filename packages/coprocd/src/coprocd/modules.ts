/**
 * The microkernel's co-processes as module entry points, for runtimes that start programs by
 * module (the threads runtime: each runs on a worker). Options travel as JSON in argv[1];
 * authority travels in capv, as it does inline: coprocd gets the pre-minted key ring
 * (capv[0]), the event page it reports to the host through (capv[1]) and the inspection page
 * whose slices it hands the daemons (capv[2]).
 */
import type { CoProcessApi, ProgramModule } from '@comsg/capmachine';
import type { IpcdLimits } from '@comsg/ipcd/protocol';
import type { NsdLimits, NsdQuota } from '@comsg/namespaced';
import { CORE_DAEMONS, freshStatus, runCoprocd, type CoreDaemon, type FailurePolicy } from './coprocd.js';
import { daemonPrograms } from './daemons.js';
import { eventPageWriter } from './event-page.js';
import { keyRingReader } from './key-ring.js';
import { inspectSlice } from './inspection.js';

/** coprocd's capv slots when it is started by module, for tools. */
export const COPROCD_CAPV_NAMES: Readonly<Record<number, string>> = { 0: 'COPROCD_KEY_RING', 1: 'COPROCD_EVENT_PAGE', 2: 'COPROCD_INSPECT_PAGE' };

/** What coprocd's argv[1] carries. */
export interface ModuleBootConfig {
  readonly policies: Record<CoreDaemon, FailurePolicy>;
  readonly maxRestarts: number;
  readonly bootTimeoutMs: number;
  readonly nsd?: { readonly limits?: Partial<NsdLimits>; readonly quota?: Partial<NsdQuota>; readonly workers?: number };
  readonly ipcd?: { readonly limits?: Partial<IpcdLimits>; readonly workers?: number };
}

/** What each daemon's argv[1] carries: its options and the pid exempt from quotas (coprocd). */
interface DaemonArgs {
  readonly nsd?: ModuleBootConfig['nsd'];
  readonly ipcd?: ModuleBootConfig['ipcd'];
  readonly exemptPid: number;
}

function parsed<T>(ctx: CoProcessApi): T | undefined {
  try {
    return JSON.parse(ctx.argv[1] ?? '') as T;
  } catch {
    return undefined;
  }
}

/** This module's URL, in sources (.ts) or in the build (a tsup entry of its own). */
export function microkernelModule(): string {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('./modules.ts', here).href;
  return new URL(`./coprocd/modules${here.endsWith('.cjs') ? '.cjs' : '.js'}`, here).href;
}

function runDaemon(name: CoreDaemon, ctx: CoProcessApi): Promise<number | void> | number | void {
  const args = parsed<DaemonArgs>(ctx);
  if (args === undefined) {
    ctx.print(`${name}: argv[1] must hold its options as JSON`);
    return 1;
  }
  const exempt = (pid: number): boolean => pid === args.exemptPid;
  return daemonPrograms({ nsd: { ...args.nsd, exempt }, ipcd: { ...args.ipcd, exempt } })[name].main(ctx as never);
}

export const nsd = (ctx: CoProcessApi) => runDaemon('nsd', ctx);
export const coserviced = (ctx: CoProcessApi) => runDaemon('coserviced', ctx);
export const coeventd = (ctx: CoProcessApi) => runDaemon('coeventd', ctx);
export const ipcd = (ctx: CoProcessApi) => runDaemon('ipcd', ctx);

export async function coprocd(ctx: CoProcessApi): Promise<number> {
  const config = parsed<ModuleBootConfig>(ctx);
  const [ring, page, inspectPage] = [ctx.capv[0], ctx.capv[1], ctx.capv[2]];
  if (config === undefined || ring === undefined || page === undefined) {
    ctx.print('coprocd: needs its configuration in argv[1], the key ring in capv[0] and the event page in capv[1]');
    return 1;
  }
  const daemonArgv = JSON.stringify({ nsd: config.nsd, ipcd: config.ipcd, exemptPid: ctx.pid } satisfies DaemonArgs);
  const programs = Object.fromEntries(CORE_DAEMONS.map((d) => [d, { module: microkernelModule(), export: d, name: d } satisfies ProgramModule])) as Record<CoreDaemon, ProgramModule>;
  return runCoprocd(
    ctx,
    {
      mintKeys: keyRingReader(ctx.machine, ring, config.maxRestarts + 1),
      programs,
      argv: (d) => [d, daemonArgv],
      inspectSlice: (d) => (inspectPage === undefined ? undefined : inspectSlice(ctx.machine, inspectPage, d)),
      policies: config.policies,
      maxRestarts: config.maxRestarts,
      bootTimeoutMs: config.bootTimeoutMs,
      onEvent: eventPageWriter(ctx.machine, page, ctx.thread),
    },
    freshStatus(),
  );
}
