import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, COSETUP_COCALL, type Capability, type CoProcessContext, type SysError } from '@comsg/capmachine';
import { ARGS_SIZE, TOKEN_SPACE_BYTES, ukernCall, type AnyOpDecl, type ArgsOf, type CallError, type ResultOf } from '@comsg/abi';
import { startNsd, type NsdLimits, type RunningNsd } from '../src/index.js';

export function ok<T>(e: E.Either<SysError, T>): T {
  if (E.isLeft(e)) throw new Error(`${e.left._tag}: ${e.left.message}`);
  return e.right;
}

/** A co-process that runs jobs handed to it by the test, one at a time. */
export interface Agent {
  readonly pid: number;
  exec<T>(job: (ctx: CoProcessContext) => Promise<T> | T): Promise<T>;
  call<D extends AnyOpDecl>(decl: D, args: ArgsOf<D>): Promise<E.Either<CallError<D>, ResultOf<D>>>;
}

export interface NsdWorld {
  readonly space: AddressSpace;
  readonly nsd: RunningNsd;
  readonly agents: readonly Agent[];
  close(): Promise<void>;
}

export async function nsdWorld(options: { agents?: number; limits?: Partial<NsdLimits>; seed?: number } = {}): Promise<NsdWorld> {
  const space = AddressSpace.create(options.seed === undefined ? {} : { seed: options.seed });
  const keys = { types: space.mintTypes(16), nsTokens: space.mintTokenSpace(TOKEN_SPACE_BYTES), objTokens: space.mintTokenSpace(TOKEN_SPACE_BYTES) };
  let nsd: RunningNsd | undefined;
  let closed = false;
  space.spawn({
    name: 'nsd',
    main: async (ctx) => {
      nsd = ok(await startNsd(ctx, keys, options.limits === undefined ? {} : { limits: options.limits }));
      await ctx.thread.park(new Promise(() => {}));
    },
  });
  const agents: Agent[] = [];
  for (let i = 0; i < (options.agents ?? 3); i++) {
    const queue: Array<(ctx: CoProcessContext) => Promise<void>> = [];
    let wake: () => void = () => {};
    let pid = -1;
    let block: Capability | undefined;
    const ready = new Promise<void>((resolveReady) => {
      space.spawn({
        name: `agent${i}`,
        main: async (ctx) => {
          pid = ctx.pid;
          ok(ctx.thread.cosetup(COSETUP_COCALL));
          block = ok(ctx.malloc(ARGS_SIZE));
          resolveReady();
          for (;;) {
            while (queue.length === 0) {
              if (closed) return;
              await ctx.thread.park(new Promise<void>((r) => (wake = r)));
            }
            await queue.shift()!(ctx);
          }
        },
      });
    });
    await space.run();
    await ready;
    const exec = <T>(job: (ctx: CoProcessContext) => Promise<T> | T): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        queue.push(async (ctx) => {
          try {
            resolve(await job(ctx));
          } catch (e) {
            reject(e);
          }
        });
        wake();
      });
    agents.push({
      get pid() {
        return pid;
      },
      exec,
      call: (decl, args) =>
        exec((ctx) => ukernCall(ctx.thread, ctx.machine, block!, nsd!.pool.targets[i % nsd!.pool.targets.length]!, decl, args)),
    });
  }
  return {
    space,
    nsd: nsd!,
    agents,
    close: async () => {
      closed = true;
      await space.shutdown();
    },
  };
}

export function tagOf<T>(e: E.Either<SysError, T>): string {
  return E.isLeft(e) ? e.left._tag : 'ok';
}
