/**
 * Program modules for copoll and death events across workers (test/threads/events.test.ts).
 * capv[0] is a shared block: flags the host and the programs wait on (atomic adds + futex),
 * a capability slot to hand one over, and what the programs observed.
 */
import * as E from 'fp-ts/lib/Either.js';
import { startService, type Capability, type CapMachine, type CoProcessContext, type SysError } from '@comsg/libcoproc';
import { ccbInstall, ccbRegister, cocreate, colisten, copoll, coprocInit, coselect, cosend, openNamedCoport, PollEvent, type UkernThread } from '@comsg/libcomsg';

/** Block layout (bytes). CAP holds a capability; the rest are 32-bit words. */
export const V = { CAP: 0, PUBLISHED: 16, INSTALLED: 20, FIRED: 24, PHASE: 28, ORDER: 32 } as const;
export const V_BYTES = 64;
const WAIT_MS = 20_000;

const report = (ctx: CoProcessContext, what: string, value: unknown): void => ctx.print(JSON.stringify({ what, pid: ctx.pid, value }));

function must<T>(what: string, r: E.Either<SysError, T>): T {
  if (E.isLeft(r)) throw new Error(`${what}: ${r.left._tag} (${r.left.message})`);
  return r.right;
}

function bump(ctx: CoProcessContext, block: Capability, offset: number): void {
  ctx.machine.fetchAddI32(block, offset, 1);
  ctx.thread.futexWake(block, offset);
}

async function atLeast(ctx: CoProcessContext, m: CapMachine, block: Capability, offset: number, n: number): Promise<void> {
  for (let v = m.loadI32(block, offset); v < n; v = m.loadI32(block, offset)) {
    if ((await ctx.thread.futexWait([{ cap: block, offset, expected: v }], WAIT_MS)) === 'timeout') throw new Error(`word ${offset} never reached ${n}`);
  }
}

async function join(ctx: CoProcessContext): Promise<{ k: UkernThread; ns: Capability }> {
  const k = must('coproc_init', await coprocInit(ctx, { timeoutMs: 20_000 }));
  return { k, ns: must('cocreate', await cocreate(k, 'events', 'APPLICATION', k.root)).ns };
}

/** Listens for its own death and hands the event out; then idles until the host kills it. */
export async function subject(ctx: CoProcessContext): Promise<number> {
  const block = ctx.capv[0]!;
  const k = must('coproc_init', await coprocInit(ctx, { timeoutMs: 20_000 }));
  ctx.machine.storeCap(block, V.CAP, must('colisten', await colisten(k)));
  bump(ctx, block, V.PUBLISHED);
  for (;;) await ctx.thread.sleep(1000);
}

/**
 * Serves a callback on a thread of its own (each call records its argument word), installs it
 * three times on the subject's death event (arguments 1, 2, 3), then waits for all three.
 */
export async function watcher(ctx: CoProcessContext): Promise<number> {
  const block = ctx.capv[0]!;
  const m = ctx.machine;
  const k = must('coproc_init', await coprocInit(ctx, { timeoutMs: 20_000 }));
  const cbThread = ctx.spawnThread('callback', async (th) => void (await th.park(new Promise(() => {}))));
  const svc = must(
    'startService',
    startService(
      ctx,
      (call) => {
        const n = m.loadI32(block, V.FIRED);
        m.storeI32(block, V.ORDER + 4 * n, m.loadI32(call.inbuf, 0));
        bump(ctx, block, V.FIRED);
        return 0;
      },
      {},
      cbThread,
    ),
  );
  const fn = must('ccb_register', await ccbRegister(k, svc.target));
  await atLeast(ctx, m, block, V.PUBLISHED, 1);
  const event = m.loadCap(block, V.CAP);
  const arg = must('malloc', ctx.malloc(16));
  for (const n of [1, 2, 3]) {
    m.storeI32(arg, 0, n);
    must('ccb_install', await ccbInstall(k, fn, event, { buffer: arg, length: 16 }));
  }
  bump(ctx, block, V.INSTALLED);
  await atLeast(ctx, m, block, V.FIRED, 3);
  report(ctx, 'fired', [0, 1, 2].map((i) => m.loadI32(block, V.ORDER + 4 * i)));
  return 0;
}

/**
 * Opens a COCHANNEL and a COCARRIER port (named in the shared namespace), then copolls:
 * phase 1 on both (the poker sends on the carrier), phase 2 on the channel alone.
 */
export async function poller(ctx: CoProcessContext): Promise<number> {
  const block = ctx.capv[0]!;
  const m = ctx.machine;
  const { k, ns } = await join(ctx);
  const channel = must('coopen', await openNamedCoport(k, 'chan', 'COCHANNEL', ns)).port;
  const carrier = must('coopen', await openNamedCoport(k, 'carr', 'COCARRIER', ns)).port;
  const phases: unknown[] = [];
  bump(ctx, block, V.PHASE); // 1: both polled
  const first = must('copoll', await copoll(k, [{ port: channel, events: PollEvent.IN }, { port: carrier, events: PollEvent.IN }], WAIT_MS));
  phases.push(first);
  bump(ctx, block, V.PHASE); // 2: the channel alone
  phases.push(must('copoll', await copoll(k, [{ port: channel, events: PollEvent.IN }], WAIT_MS)));
  report(ctx, 'polled', phases);
  return 0;
}

/** Waits for each poll phase, lets the poller fall asleep, then makes its port readable. */
export async function poker(ctx: CoProcessContext): Promise<number> {
  const block = ctx.capv[0]!;
  const m = ctx.machine;
  const { k, ns } = await join(ctx);
  const buf = must('malloc', ctx.malloc(16));
  await atLeast(ctx, m, block, V.PHASE, 1);
  const carrier = must('coselect', await coselect(k, 'carr', 'COPORT', ns)).obj!;
  const channel = must('coselect', await coselect(k, 'chan', 'COPORT', ns)).obj!;
  await ctx.thread.sleep(50);
  must('cosend', await cosend(k, carrier, buf, 8));
  await atLeast(ctx, m, block, V.PHASE, 2);
  await ctx.thread.sleep(50);
  must('cosend', await cosend(k, channel, buf, 8));
  return 0;
}
