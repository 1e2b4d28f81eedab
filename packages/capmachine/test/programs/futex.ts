/**
 * Futex ping-pong between two co-processes over a shared block (capv[0]): PING is bumped by
 * the pinger, PONG by the ponger, each waiting for the other's bump. Every tenth round the
 * pinger pauses first, so its peer has fallen asleep rather than still spinning when it is
 * woken. The ponger waits on two words (QUIET never changes), the several-words path.
 */
import type { Capability, CoProcessApi } from '../../src/index.js';
import { report } from './switcher.js';

const PING = 0;
const PONG = 4;
const QUIET = 8;
const WAIT_MS = 10_000;

/** Wait until the word reaches `want`; false if a wait ran out of time instead. */
async function await_(ctx: CoProcessApi, block: Capability, offset: number, want: number, also: readonly number[] = []): Promise<boolean> {
  const m = ctx.machine;
  for (let v = m.loadI32(block, offset); v < want; v = m.loadI32(block, offset)) {
    const words = [{ cap: block, offset, expected: v }, ...also.map((o) => ({ cap: block, offset: o, expected: m.loadI32(block, o) }))];
    if ((await ctx.thread.futexWait(words, WAIT_MS)) === 'timeout') return false;
  }
  return true;
}

export async function pinger(ctx: CoProcessApi): Promise<number> {
  const block = ctx.capv[0]!;
  const rounds = Number(ctx.argv[1]);
  let woke = 0;
  let lost = 0;
  for (let i = 1; i <= rounds; i++) {
    if (i % 10 === 0) await ctx.thread.sleep(30);
    ctx.machine.fetchAddI32(block, PING, 1);
    if (ctx.thread.futexWake(block, PING) > 0) woke++;
    if (!(await await_(ctx, block, PONG, i))) lost++;
  }
  report(ctx, 'pinger', { woke, lost });
  return 0;
}

export async function ponger(ctx: CoProcessApi): Promise<number> {
  const block = ctx.capv[0]!;
  const rounds = Number(ctx.argv[1]);
  let lost = 0;
  for (let i = 1; i <= rounds; i++) {
    if (!(await await_(ctx, block, PING, i, [QUIET]))) lost++;
    ctx.machine.fetchAddI32(block, PONG, 1);
    ctx.thread.futexWake(block, PONG);
  }
  report(ctx, 'ponger', { lost, quiet: ctx.machine.loadI32(block, QUIET) });
  return 0;
}

const SPIN = 12;

/**
 * Polls SPIN with `spinWhile` until it leaves 0 (at most 10 s), after telling the setter it
 * started (PING). Inline nothing else can run meanwhile, so one poll that says no is the answer.
 */
export async function spinner(ctx: CoProcessApi): Promise<number> {
  const block = ctx.capv[0]!;
  const w = ctx.machine.words(block);
  ctx.machine.fetchAddI32(block, PING, 1);
  ctx.thread.futexWake(block, PING);
  const until = performance.now() + WAIT_MS;
  let saw = false;
  do saw = ctx.thread.spinWhile(w, SPIN, 0);
  while (!saw && ctx.thread.preemptible && performance.now() < until);
  report(ctx, 'spinner', { preemptible: ctx.thread.preemptible, saw, value: w.load(SPIN) });
  return 0;
}

/** Sets SPIN once the spinner has started. */
export async function setter(ctx: CoProcessApi): Promise<number> {
  const block = ctx.capv[0]!;
  await await_(ctx, block, PING, 1);
  ctx.machine.fetchAddI32(block, SPIN, 1);
  return 0;
}
