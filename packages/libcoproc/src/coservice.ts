/**
 * Coservices for programs: `coprovide` publishes worker targets as a coservice,
 * `codiscover` gets a worker of one, and `provideService` does the whole job — start a pool
 * of worker threads running a handler, coprovide them, and coinsert the coservice under a
 * name in a namespace.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability, CoacceptHandler, CoProcessApi, SysError } from '@comsg/capmachine';
import { codiscover as codiscoverOp, coprovide as coprovideOp, CoserviceFlag } from '@comsg/coprocd/protocol';
import { coinsert } from '@comsg/namespaced/protocol';
import { startWorkers } from '@comsg/abi';
import type { UkernThread } from './ukern.js';

export interface ProvidedService {
  readonly service: Capability;
  readonly endpoint: Capability;
}

/** Publish `targets` (worker threads' targets) as a coservice for `op`. */
export async function coprovide(k: UkernThread, targets: readonly Capability[], options: { op?: number; slow?: boolean } = {}): Promise<E.Either<SysError, ProvidedService>> {
  const ctx = k.session.ctx;
  const arr = ctx.malloc(Math.max(16, targets.length * 16));
  if (E.isLeft(arr)) return arr;
  targets.forEach((t, i) => ctx.machine.storeCap(arr.right, i * 16, t));
  return k.call(coprovideOp, {
    workers: arr.right,
    count: targets.length,
    flags: options.slow === true ? CoserviceFlag.SLOWPATH : CoserviceFlag.NONE,
    op: options.op ?? 0,
  });
}

/** A worker target of a coservice (from coselect's `obj`), round robin. */
export async function codiscover(k: UkernThread, service: Capability): Promise<E.Either<SysError, { target: Capability; op: number; slow: boolean }>> {
  const r = await k.call(codiscoverOp, { service });
  return E.map((d: { target: Capability; op: number; flags: number }) => ({ target: d.target, op: d.op, slow: (d.flags & CoserviceFlag.SLOWPATH) !== 0 }))(r);
}

export interface ProvideOptions {
  readonly name: string;
  /** Namespace to publish in (default: the root). */
  readonly ns?: Capability;
  readonly workers?: number;
  readonly bufferBytes?: number;
  readonly slow?: boolean;
}

/**
 * Start `workers` threads serving `handler`, publish them as one coservice named `name`.
 * Returns the coservice, its namespace entry, and `serve()` to park the calling thread.
 */
export async function provideService(
  ctx: CoProcessApi,
  k: UkernThread,
  handler: CoacceptHandler,
  options: ProvideOptions,
): Promise<E.Either<SysError, ProvidedService & { nsobj: Capability; stop: () => void; serve: () => Promise<void> }>> {
  const workers = await startWorkers(ctx, () => handler, {
    count: options.workers ?? 2,
    name: options.name,
    ...(options.bufferBytes === undefined ? {} : { bufferBytes: options.bufferBytes }),
    ...(options.slow === true ? { slow: true } : {}),
  });
  if (E.isLeft(workers)) return workers;
  const { targets, stop } = workers.right;
  const provided = await coprovide(k, targets, options.slow === true ? { slow: true } : {});
  if (E.isLeft(provided)) return provided;
  const entry = await k.call(coinsert, { name: options.name as never, type: 'COSERVICE', obj: provided.right.service, ns: options.ns ?? k.root });
  if (E.isLeft(entry)) return entry;
  let parked: Promise<void> | undefined;
  return E.right({
    ...provided.right,
    nsobj: entry.right.nsobj,
    stop,
    serve: () => (parked ??= ctx.thread.park(new Promise(() => {})).then(() => undefined)),
  });
}
