/**
 * The daemon programs coprocd starts. Each reads its authority from its capv (coprocd's
 * bootstrap target, its otypes, its token spaces, and what it needs of other daemons),
 * starts its worker pool, and reports the pool to coprocd with BOOT_REPORT.
 */
import * as E from 'fp-ts/lib/Either.js';
import { COSETUP_COCALL, Perm, type Capability, type CoProcessApi, type Program, type SysError } from '@comsg/capmachine';
import { ARGS_SIZE, ukernCall, type WorkerPool } from '@comsg/abi';
import { startIpcd, type RunningIpcd } from '@comsg/ipcd';
import { startNsd, type RunningNsd } from '@comsg/namespaced';
import { startCoeventd, type RunningCoeventd } from '../coeventd/start.js';
import { startCoserviced, type RunningCoserviced } from '../coserviced/start.js';
import { bootReport, type DaemonName } from '../protocol/coprocd.js';
import { serveInspection, snapshotOf, type RunningDaemon } from './inspection.js';

/** Daemon capv slots (set by coprocd); INSPECT only where the host cannot read daemon heaps (threads). */
export const DCAPV = { BOOT: 0, TYPES: 1, TOKENS_A: 2, TOKENS_B: 3, INSPECT: 4 } as const;
/** The daemon slots' names, for tools (daemons do not use the program capv conventions). */
export const DAEMON_CAPV_NAMES: Readonly<Record<number, string>> = { 0: 'DCAPV_BOOT', 1: 'DCAPV_TYPES', 2: 'DCAPV_TOKENS_A', 3: 'DCAPV_TOKENS_B', 4: 'DCAPV_INSPECT' };

export interface DaemonKeys {
  readonly types: Capability;
  readonly tokensA: Capability;
  readonly tokensB: Capability;
}

/** A read-only capability to an array holding the pool's targets (for COPROVIDE). */
function publishTargets(ctx: CoProcessApi, pool: WorkerPool): E.Either<SysError, Capability> {
  return E.map((arr: Capability) => {
    pool.targets.forEach((t, i) => ctx.machine.storeCap(arr, i * 16, t));
    return ctx.machine.andPerm(arr, Perm.LOAD | Perm.LOAD_CAP);
  })(ctx.malloc(pool.targets.length * 16));
}

async function report(ctx: CoProcessApi, daemon: DaemonName, pool: WorkerPool, root?: Capability): Promise<E.Either<SysError, void>> {
  const boot = ctx.capv[DCAPV.BOOT];
  if (boot === undefined) return E.left({ _tag: 'EINVAL', errno: 22, op: 'BOOT_REPORT', message: 'no bootstrap target in capv' });
  const workers = publishTargets(ctx, pool);
  if (E.isLeft(workers)) return workers;
  const setup = ctx.thread.cosetup(COSETUP_COCALL);
  if (E.isLeft(setup)) return setup;
  const block = ctx.malloc(ARGS_SIZE);
  if (E.isLeft(block)) return block;
  const r = await ukernCall(ctx.thread, ctx.machine, block.right, boot, bootReport, { daemon, workers: workers.right, count: pool.targets.length, root });
  return E.map(() => undefined)(r);
}

function keysFrom(ctx: CoProcessApi): DaemonKeys | undefined {
  const [types, tokensA, tokensB] = [ctx.capv[DCAPV.TYPES], ctx.capv[DCAPV.TOKENS_A], ctx.capv[DCAPV.TOKENS_B]];
  return types === undefined || tokensA === undefined || tokensB === undefined ? undefined : { types, tokensA, tokensB };
}

/** Run a started daemon until its process is ended, answering inspection requests if it has a slice. */
async function serveForever(ctx: CoProcessApi, name: DaemonName, running: RunningDaemon): Promise<void> {
  const slice = ctx.capv[DCAPV.INSPECT];
  await ctx.thread.park(slice === undefined ? new Promise(() => {}) : serveInspection(ctx, slice, () => snapshotOf(name, running)));
}

function daemonProgram(name: DaemonName, start: (ctx: CoProcessApi, keys: DaemonKeys) => Promise<E.Either<SysError, RunningDaemon & { root?: Capability }>>): Program {
  return {
    name,
    main: async (ctx) => {
      const keys = keysFrom(ctx);
      if (keys === undefined) {
        ctx.print(`${name}: missing keys in capv`);
        return 1;
      }
      const started = await start(ctx, keys);
      if (E.isLeft(started)) {
        ctx.print(`${name}: cannot start: ${started.left.message}`);
        return 1;
      }
      const r = await report(ctx, name, started.right.pool, started.right.root);
      if (E.isLeft(r)) {
        ctx.print(`${name}: BOOT_REPORT failed: ${r.left._tag}`);
        return 1;
      }
      await serveForever(ctx, name, started.right);
      return 0;
    },
  };
}

export interface DaemonOptions {
  readonly nsd?: Parameters<typeof startNsd>[2];
  readonly ipcd?: Parameters<typeof startIpcd>[2];
  /** Host-side observation of started daemons' state (for `Microkernel.inspect`). */
  readonly observe?: {
    nsd?: (running: RunningNsd) => void;
    ipcd?: (running: RunningIpcd) => void;
    coserviced?: (running: RunningCoserviced) => void;
    coeventd?: (running: RunningCoeventd) => void;
  };
}

/** Hand a started daemon's state to its observer (if any), passing the result on. */
async function observed<R>(started: Promise<E.Either<SysError, R>>, observe: ((running: R) => void) | undefined): Promise<E.Either<SysError, R>> {
  const r = await started;
  if (E.isRight(r)) observe?.(r.right);
  return r;
}

export function daemonPrograms(options: DaemonOptions = {}): Record<'nsd' | 'coserviced' | 'coeventd' | 'ipcd', Program> {
  const o = options.observe;
  return {
    nsd: daemonProgram('nsd', (ctx, k) => observed(startNsd(ctx, { types: k.types, nsTokens: k.tokensA, objTokens: k.tokensB }, options.nsd ?? {}), o?.nsd)),
    coserviced: daemonProgram('coserviced', (ctx, k) => observed(startCoserviced(ctx, { types: k.types, tokens: k.tokensA }), o?.coserviced)),
    coeventd: daemonProgram('coeventd', (ctx, k) => observed(startCoeventd(ctx, { types: k.types, tokens: k.tokensA }), o?.coeventd)),
    ipcd: daemonProgram('ipcd', (ctx, k) => observed(startIpcd(ctx, { types: k.types, tokens: k.tokensA }, options.ipcd ?? {}), o?.ipcd)),
  };
}
