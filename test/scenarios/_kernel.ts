/** Shared scenario helpers: boot a microkernel, run a program in it, unwrap results. */
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, bootMicrokernel, type CoProcessApi, type CoProcessContext, type SysError } from '@comsg/libcoproc';
import { coprocInit, type UkernThread } from '@comsg/libcomsg';

export function ok<T>(e: E.Either<SysError, T>): T {
  if (E.isLeft(e)) throw new Error(`${e.left._tag} in ${e.left.op}: ${e.left.message}`);
  return e.right;
}
export const tagOf = <T>(e: E.Either<SysError, T>): string => (E.isLeft(e) ? e.left._tag : 'ok');

/**
 * Wait until `pred` holds (virtual time inline, real time on threads); throws after `limitMs`
 * instead of spinning forever. `pred` may be async (a copoll, say).
 */
export async function until(ctx: CoProcessApi, pred: () => boolean | Promise<boolean>, limitMs = 10_000, step = 1, what = 'condition'): Promise<void> {
  const start = ctx.now();
  while (!(await pred())) {
    if (ctx.now() - start > limitMs) throw new Error(`${what} not reached in ${limitMs} ms`);
    await ctx.thread.sleep(step);
  }
}

export interface KernelOptions {
  readonly kernel?: Parameters<typeof bootMicrokernel>[1];
  /** Scheduler seed: replayable interleavings. */
  readonly seed?: number;
}

/** Boot a microkernel, run `body` as a program with a session, return what it returned. */
export async function withKernel<T>(
  body: (ctx: CoProcessContext, k: UkernThread, space: AddressSpace, kernel: ReturnType<typeof bootMicrokernel>) => Promise<T>,
  options: Parameters<typeof bootMicrokernel>[1] | KernelOptions = {},
): Promise<T> {
  const o: KernelOptions = 'kernel' in options || 'seed' in options ? (options as KernelOptions) : { kernel: options as Parameters<typeof bootMicrokernel>[1] };
  const space = AddressSpace.create({ stdout: () => {}, ...(o.seed === undefined ? {} : { seed: o.seed }) });
  const kernel = bootMicrokernel(space, o.kernel ?? {});
  ok(await kernel.ready);
  let result: { v: T } | { e: unknown } | undefined;
  const h = space.spawn({
    name: 'test-program',
    main: async (ctx) => {
      try {
        const k = ok(await coprocInit(ctx));
        result = { v: await body(ctx, k, space, kernel) };
      } catch (e) {
        result = { e };
      }
    },
  });
  await space.run();
  await h.exited;
  await space.shutdown();
  if (result === undefined) throw new Error('program did not finish');
  if ('e' in result) throw result.e;
  return result.v;
}
