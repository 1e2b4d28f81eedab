/** ipcd: the coport daemon. `startIpcd` runs inside a co-process and starts its worker pool. */
import * as E from 'fp-ts/lib/Either.js';
import type { CoProcessApi, SysError } from '@comsg/capmachine';
import { startPool, type WorkerPool } from '@comsg/abi';
import type { IpcdLimits } from '../protocol/types.js';
import { serveCoclose } from './coclose.js';
import { serveCoopen } from './coopen.js';
import { serveCoportEntry } from './coport-entry.js';
import { serveCoportMsgFree } from './coport-msg-free.js';
import { serveCorecv } from './corecv.js';
import { serveCosend } from './cosend.js';
import { Ipcd, type IpcdKeys } from './ipcd.js';

export interface IpcdOptions {
  readonly limits?: Partial<IpcdLimits>;
  /** Co-processes exempt from the per-process port quota (the microkernel itself). */
  readonly exempt?: (pid: number) => boolean;
  readonly workers?: number;
  readonly onDefect?: (op: string, error: unknown) => void;
}

export interface RunningIpcd {
  readonly ipcd: Ipcd;
  readonly pool: WorkerPool;
}

export async function startIpcd(ctx: CoProcessApi, keys: IpcdKeys, options: IpcdOptions = {}): Promise<E.Either<SysError, RunningIpcd>> {
  const ipcd = Ipcd.create(ctx, keys, options.limits, options.exempt);
  if (E.isLeft(ipcd)) return ipcd;
  const i = ipcd.right;
  const bindings = [serveCoopen(i), serveCoclose(i), serveCosend(i), serveCorecv(i), serveCoportMsgFree(i), serveCoportEntry(i)];
  const pool = await startPool(ctx, bindings, {
    name: 'ipcd',
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.onDefect === undefined ? {} : { onDefect: options.onDefect }),
  });
  if (E.isLeft(pool)) return pool;
  return E.right({ ipcd: i, pool: pool.right });
}
