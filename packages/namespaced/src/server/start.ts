/**
 * nsd: the namespace daemon. `startNsd` runs inside a co-process: it builds the table, creates
 * the root namespace "coproc" and starts a worker pool serving the six namespace ops.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability, CoProcessApi, SysError } from '@comsg/capmachine';
import { startPool, type WorkerPool } from '@comsg/abi';
import { NsRight } from '../protocol/types.js';
import { serveCocreate } from './cocreate.js';
import { serveCodelete } from './codelete.js';
import { serveCodrop } from './codrop.js';
import { serveCoinsert } from './coinsert.js';
import { serveCoselect } from './coselect.js';
import { serveCoupdate } from './coupdate.js';
import type { NsdKeys } from './handles.js';
import { NamespaceTable, type NsdLimits, type NsdQuota } from './namespace-table.js';

export interface NsdOptions {
  readonly limits?: Partial<NsdLimits>;
  /** Per-co-process quota (live namespaces and objects each may have created). */
  readonly quota?: Partial<NsdQuota>;
  /** Co-processes exempt from the quota (the microkernel's own publishing). */
  readonly exempt?: (pid: number) => boolean;
  readonly workers?: number;
  readonly onDefect?: (op: string, error: unknown) => void;
}

export interface RunningNsd {
  readonly table: NamespaceTable;
  readonly pool: WorkerPool;
  /** The root namespace with WR: what coproc_init hands every program. */
  readonly root: Capability;
}

export async function startNsd(ctx: CoProcessApi, keys: NsdKeys, options: NsdOptions = {}): Promise<E.Either<SysError, RunningNsd>> {
  const table = new NamespaceTable(ctx.machine, keys, options.limits, options.quota, options.exempt);
  const bindings = [serveCocreate(table), serveCodrop(table), serveCoinsert(table), serveCoselect(table), serveCoupdate(table), serveCodelete(table)];
  const pool = await startPool(ctx, bindings, {
    name: 'nsd',
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.onDefect === undefined ? {} : { onDefect: options.onDefect }),
  });
  if (E.isLeft(pool)) return pool;
  return E.right({ table, pool: pool.right, root: table.nsHandle(table.root, NsRight.WR) });
}
