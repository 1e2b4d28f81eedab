/**
 * CheriBSD's coping(1) as runtime-neutral co-processes: `pong` registers a target and answers
 * every cocall; `ping` looks it up and makes `-c` round trips, printing each one's time. The
 * same modules run under the inline runtime (one JS thread) and the threads runtime (one worker
 * per co-process, cocalls through shared memory).
 */
import * as E from 'fp-ts/lib/Either.js';
import { COSETUP_COACCEPT, COSETUP_COCALL, type Capability, type CoProcessApi, type SysError } from '@comsg/capmachine';

function ok<T>(e: E.Either<SysError, T>, what: string): T {
  if (E.isLeft(e)) throw new Error(`${what}: ${e.left._tag} (${e.left.message})`);
  return e.right;
}

/** Answers each call with the request, its first 4 bytes replaced by the callee's pid. argv: pong <name> [slow] */
export async function pong(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COACCEPT), 'cosetup');
  ok(ctx.thread.coregister(ctx.argv[1] ?? 'pong'), 'coregister');
  const inbuf = ok(ctx.malloc(64), 'malloc');
  const outbuf = ok(ctx.malloc(64), 'malloc');
  const answer = (call: { length: number }): number => {
    ctx.machine.copy(outbuf, 0, inbuf, 0, call.length);
    ctx.machine.storeU32(outbuf, 0, ctx.pid);
    return Math.max(call.length, 4);
  };
  if (ctx.argv[2] === 'slow') await ctx.thread.coacceptSlow(answer, { inbuf, outbuf });
  else await ctx.thread.coaccept(answer, { inbuf, outbuf });
}

async function find(ctx: CoProcessApi, name: string): Promise<Capability> {
  // The target's co-process may still be starting (seconds for a worker on a busy machine).
  const giveUpAt = ctx.thread.now() + 60_000;
  for (;;) {
    const t = ctx.thread.colookup(name);
    if (E.isRight(t)) {
      ok(await ctx.thread.waitForTarget(t.right, 10_000), `waiting for ${name}`);
      return t.right;
    }
    if (ctx.thread.now() >= giveUpAt) throw new Error(`no target named ${name}`);
    await ctx.thread.sleep(5);
  }
}

/** argv: ping <target> <count> [slow] */
export async function ping(ctx: CoProcessApi): Promise<number> {
  const name = ctx.argv[1] ?? 'pong';
  const count = Number(ctx.argv[2] ?? '4');
  const slow = ctx.argv[3] === 'slow';
  ok(ctx.thread.cosetup(COSETUP_COCALL), 'cosetup');
  const target = await find(ctx, name);
  const out = ok(ctx.malloc(64), 'malloc');
  const inb = ok(ctx.malloc(64), 'malloc');
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    ctx.machine.storeU32(out, 4, i);
    const t0 = process.hrtime.bigint();
    const n = ok(slow ? ctx.thread.cocallSlow(target, out, 8, inb, 64) : ctx.thread.cocall(target, out, 8, inb, 64), 'cocall');
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    times.push(us);
    ctx.print(`${n} bytes from pid ${ctx.machine.loadU32(inb, 0)}: seq=${ctx.machine.loadU32(inb, 4)} time=${us.toFixed(3)} us`);
  }
  times.sort((a, b) => a - b);
  ctx.print(`--- ${name} ${slow ? 'cocall_slow' : 'cocall'} statistics (${ctx.runtime} runtime) ---`);
  ctx.print(`${count} round trips, min/median/max = ${times[0]!.toFixed(3)}/${times[Math.floor(count / 2)]!.toFixed(3)}/${times[count - 1]!.toFixed(3)} us`);
  return 0;
}
