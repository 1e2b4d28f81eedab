/**
 * Robust words (robust-word.ts) across a thread's death. The holder registers words in a
 * shared block (capv[0]) and dies parked while it owns one; the waiter sleeps on that word's
 * wake word. See the robust-word test in runtimes.test.ts for what each word checks.
 */
import { ROBUST_SLOTS, ownedBy, type CoProcessApi } from '../../src/index.js';
import { report } from './switcher.js';

/** Block layout (bytes). */
export const ROBUST = {
  /** Owned by the holder when it dies: rolled back to FREE, SEQ bumped. */
  OWNED: 0,
  SEQ: 4,
  /** Registered but owned by another thread (OTHER_TID): left alone. */
  FOREIGN: 8,
  FOREIGN_SEQ: 12,
  /** Registered, taken and given back, then left: untouched at death. */
  LEFT: 16,
  LEFT_SEQ: 20,
  /** Registered while another thread holds it, handed to the holder after its death (threads: rolled back then). */
  HANDED: 24,
  HANDED_SEQ: 28,
  /** Bumped once the holder owns OWNED. */
  READY: 32,
  BYTES: 48,
} as const;
export const FREE = 1;
export const BUSY = 2;
export const DONE = 8;
export const OTHER_TID = 5;

/** argv[1] `word`: register through a window's RobustWords (robustEnterWord) instead of the capability. */
export async function holder(ctx: CoProcessApi): Promise<number> {
  const b = ctx.capv[0]!;
  const m = ctx.machine;
  const th = ctx.thread;
  const w = m.words(b);
  const enter = ctx.argv[1] === 'word' ? (at: number, rollback: number, wake: number) => th.robustEnterWord(w.robust(at, wake), rollback) : (at: number, rollback: number, wake: number) => th.robustEnter(b, at, rollback, wake);
  const mine = ownedBy(BUSY, th.tid);
  const slots: number[] = [];
  slots.push(enter(ROBUST.OWNED, FREE, ROBUST.SEQ));
  m.compareExchangeI32(b, ROBUST.OWNED, FREE, mine);
  slots.push(enter(ROBUST.FOREIGN, 77, ROBUST.FOREIGN_SEQ));
  const left = enter(ROBUST.LEFT, 99, ROBUST.LEFT_SEQ);
  m.compareExchangeI32(b, ROBUST.LEFT, FREE, mine);
  m.compareExchangeI32(b, ROBUST.LEFT, mine, FREE);
  th.robustLeave(left);
  slots.push(enter(ROBUST.HANDED, FREE, ROBUST.HANDED_SEQ));
  slots.push(enter(ROBUST.LEFT, 99, ROBUST.LEFT_SEQ));
  const overflow = enter(ROBUST.LEFT, 99, ROBUST.LEFT_SEQ);
  report(ctx, 'holder', { tid: th.tid, slots, overflow, capacity: ROBUST_SLOTS });
  m.fetchAddI32(b, ROBUST.READY, 1);
  th.futexWake(b, ROBUST.READY);
  await th.park(new Promise(() => {}));
  return 0;
}

/** Sleeps on SEQ until the holder's death bumps it (a threads waiter may start after it); reports OWNED then. */
export async function waiter(ctx: CoProcessApi): Promise<number> {
  const b = ctx.capv[0]!;
  const m = ctx.machine;
  const why = await ctx.thread.futexWait([{ cap: b, offset: ROBUST.SEQ, expected: 0 }], 20_000);
  report(ctx, 'waiter', { timedOut: why === 'timeout', seq: m.loadI32(b, ROBUST.SEQ), owned: m.loadI32(b, ROBUST.OWNED) });
  return 0;
}
