/** coeventd: the death-event compartment. */
import * as E from 'fp-ts/lib/Either.js';
import type { CoProcessApi, SysError } from '@comsg/capmachine';
import { startPool, type WorkerPool } from '@comsg/abi';
import { serveCcbInstall } from './ccb-install.js';
import { serveCcbRegister } from './ccb-register.js';
import { serveColisten } from './colisten.js';
import { EventTable, type CoeventdKeys } from './state.js';

export interface RunningCoeventd {
  readonly table: EventTable;
  readonly pool: WorkerPool;
}

export async function startCoeventd(ctx: CoProcessApi, keys: CoeventdKeys, options: { workers?: number } = {}): Promise<E.Either<SysError, RunningCoeventd>> {
  const table = new EventTable(ctx.machine, keys);
  const pool = await startPool(ctx, [serveColisten(ctx, table), serveCcbRegister(ctx, table), serveCcbInstall(ctx, table)], {
    name: 'coeventd',
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  });
  return E.map((p: WorkerPool) => ({ table, pool: p }))(pool);
}
