/** coserviced: the coservice registry compartment. */
import * as E from 'fp-ts/lib/Either.js';
import type { CoProcessApi, SysError } from '@comsg/capmachine';
import { startPool, type WorkerPool } from '@comsg/abi';
import { serveCodiscover } from './codiscover.js';
import { serveCodiscover2 } from './codiscover2.js';
import { serveCoprovide } from './coprovide.js';
import { serveCoprovide2 } from './coprovide2.js';
import { CoserviceTable, type CoservicedKeys } from './table.js';

export interface RunningCoserviced {
  readonly table: CoserviceTable;
  readonly pool: WorkerPool;
}

export async function startCoserviced(
  ctx: CoProcessApi,
  keys: CoservicedKeys,
  options: { limits?: { endpoints: number; services: number }; workers?: number } = {},
): Promise<E.Either<SysError, RunningCoserviced>> {
  const table = new CoserviceTable(ctx.machine, keys, options.limits);
  const pool = await startPool(ctx, [serveCoprovide(ctx.machine, table), serveCoprovide2(table), serveCodiscover(table), serveCodiscover2(table)], {
    name: 'coserviced',
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  });
  return E.map((p: WorkerPool) => ({ table, pool: p }))(pool);
}
