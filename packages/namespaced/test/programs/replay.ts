/**
 * nsd and a client as program modules, so the namespace semantics can be replayed on either
 * runtime (on threads each is a worker). `nsdHost` starts one independent nsd per key set in
 * capv (types, ns tokens, obj tokens; three slots each, the shared block last) and publishes
 * each one's root handle and target in the block; `replayer` runs one command program per
 * nsd and prints each program's outcome tags.
 */
import * as E from 'fp-ts/lib/Either.js';
import { COSETUP_COCALL, Perm, type Capability, type CoProcessApi, type SysError } from '@comsg/capmachine';
import { ARGS_SIZE, ukernCall } from '@comsg/abi';
import { startNsd } from '../../src/index.js';
import { replayTags, type Call, type Cmd } from '../_model.js';

/** Block: READY (nsds started), then per nsd 32 bytes: root handle, target. */
export const READY = 0;
export const slotOf = (i: number): number => 16 + 32 * i;
export const blockBytes = (instances: number): number => slotOf(instances);

function must<T>(what: string, r: E.Either<SysError, T>): T {
  if (E.isLeft(r)) throw new Error(`${what}: ${r.left._tag} (${r.left.message})`);
  return r.right;
}

export async function nsdHost(ctx: CoProcessApi): Promise<void> {
  const limits = JSON.parse(ctx.argv[1] ?? '{}') as Record<string, number>;
  const instances = (ctx.capv.length - 1) / 3;
  const block = ctx.capv[ctx.capv.length - 1]!;
  const m = ctx.machine;
  for (let i = 0; i < instances; i++) {
    const [types, nsTokens, objTokens] = [ctx.capv[3 * i]!, ctx.capv[3 * i + 1]!, ctx.capv[3 * i + 2]!];
    const nsd = must('startNsd', await startNsd(ctx, { types, nsTokens, objTokens }, { limits, workers: 1 }));
    m.storeCap(block, slotOf(i), nsd.root);
    m.storeCap(block, slotOf(i) + 16, nsd.pool.targets[0]!);
  }
  m.fetchAddI32(block, READY, instances);
  ctx.thread.futexWake(block, READY);
  await ctx.thread.park(new Promise(() => {}));
}

export async function replayer(ctx: CoProcessApi): Promise<number> {
  const programs = JSON.parse(ctx.argv[1] ?? '[]') as Cmd[][];
  const block = ctx.capv[0]!;
  const m = ctx.machine;
  for (let seen = m.loadI32(block, READY); seen < programs.length; seen = m.loadI32(block, READY)) {
    if ((await ctx.thread.futexWait([{ cap: block, offset: READY, expected: seen }], 30_000)) === 'timeout') throw new Error('nsd never started');
  }
  must('cosetup', ctx.thread.cosetup(COSETUP_COCALL));
  const args = must('malloc', ctx.malloc(ARGS_SIZE));
  const object = must('malloc', ctx.malloc(16));
  const local = m.andPerm(object, Perm.LOAD | Perm.STORE); // not GLOBAL: insertable
  for (const [i, cmds] of programs.entries()) {
    const root: Capability = m.loadCap(block, slotOf(i));
    const target: Capability = m.loadCap(block, slotOf(i) + 16);
    must('waitForTarget', await ctx.thread.waitForTarget(target, 30_000));
    const call: Call = (decl, a) => ukernCall(ctx.thread, m, args, target, decl, a);
    ctx.print(JSON.stringify({ program: i, tags: await replayTags(call, root, local, object, cmds) }));
  }
  return 0;
}
