/** What the bench sections share: unwrap-or-throw, and one program run in a booted microkernel. */
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, bootMicrokernel, type CoProcessContext, type Microkernel, type MicrokernelOptions } from '@comsg/libcoproc';
import { coprocInit, type UkernThread } from '@comsg/libcomsg';

export function ok<T>(r: E.Either<{ _tag: string; message: string }, T>, what: string): T {
  if (E.isLeft(r)) throw new Error(`${what}: ${r.left._tag} ${r.left.message}`);
  return r.right;
}

/** Boot a microkernel, run `body` as one co-process with a session, shut down; rethrows its failure. */
export async function inMicrokernel<T>(
  options: { memoryBytes?: number; kernel?: MicrokernelOptions },
  body: (ctx: CoProcessContext, k: UkernThread, kernel: Microkernel) => Promise<T>,
): Promise<T> {
  const space = AddressSpace.create({ stdout: () => {}, ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }) });
  const kernel = bootMicrokernel(space, options.kernel ?? {});
  ok(await kernel.ready, 'boot');
  let result = { e: new Error('the bench program did not finish') } as { v: T } | { e: unknown };
  space.spawn({
    name: 'bench',
    main: async (ctx) => {
      try {
        result = { v: await body(ctx, ok(await coprocInit(ctx), 'coproc_init'), kernel) };
      } catch (e) {
        result = { e };
      }
    },
  });
  await space.run();
  await space.shutdown();
  if ('e' in result) throw result.e;
  return result.v;
}
