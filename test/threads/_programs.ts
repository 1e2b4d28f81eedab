/**
 * Program modules for the cross-thread tests (test/threads): they run on worker threads with
 * the microkernel on workers too. argv carries parameters; capv[0] is a shared block the host
 * allocated, where they count what they saw (every counter is an atomic add: several
 * consumers share it). Progress and failures are JSON lines on stdout.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability, CapMachine, CoProcessContext, SysError } from '@comsg/libcoproc';
import { cocreate, coprocInit, corecv, corestrict, coselect, cosend, openNamedCoport, CoportRight, type CoportTypeName, type UkernThread } from '@comsg/libcomsg';

/**
 * Block layout: producers' frames received, corrupt frames, done flag, hammer frames received,
 * then one counter per (producer, seq). Hammer frames (producer ≥ HAMMER_BASE) are checked but
 * counted apart: hammers are killed mid-stream.
 */
export const B = { TOTAL: 0, CORRUPT: 4, DONE: 8, HAMMER: 12, COUNTS: 16 } as const;
export const HAMMER_BASE = 100;
export const FRAME = 32;

const report = (ctx: CoProcessContext, what: string, value: unknown): void => ctx.print(JSON.stringify({ what, pid: ctx.pid, value }));

function must<T>(what: string, r: E.Either<SysError, T>): T {
  if (E.isLeft(r)) throw new Error(`${what}: ${r.left._tag} (${r.left.message})`);
  return r.right;
}

/** Atomic add through a capability (compare-and-swap loop). */
function add(m: CapMachine, block: Capability, offset: number, n: number): number {
  for (;;) {
    const old = m.loadI32(block, offset);
    if (m.compareExchangeI32(block, offset, old, old + n) === old) return old + n;
  }
}

/** The frame of message (p, seq): header words and a payload derived from them. */
export function frame(p: number, seq: number): Uint8Array {
  const f = new Uint8Array(FRAME);
  const v = new DataView(f.buffer);
  v.setUint32(0, p, true);
  v.setUint32(4, seq, true);
  for (let i = 12; i < FRAME; i++) f[i] = (p * 131 + seq * 7 + i) & 0xff;
  let sum = 0;
  for (let i = 12; i < FRAME; i++) sum = (sum * 31 + f[i]!) >>> 0;
  v.setUint32(8, sum, true);
  return f;
}

interface StressArgs {
  readonly type: CoportTypeName;
  readonly producers: number;
  readonly perProducer: number;
}

function stressArgs(ctx: CoProcessContext): StressArgs {
  const [, type = 'COCHANNEL', producers = '2', perProducer = '100'] = ctx.argv;
  return { type: type as CoportTypeName, producers: Number(producers), perProducer: Number(perProducer) };
}

async function join(ctx: CoProcessContext): Promise<{ k: UkernThread; ns: Capability }> {
  const k = must('coproc_init', await coprocInit(ctx, { timeoutMs: 20_000 }));
  const app = must('cocreate', await cocreate(k, 'stress', 'APPLICATION', k.root));
  return { k, ns: app.ns };
}

async function findPort(ctx: CoProcessContext, k: UkernThread, ns: Capability): Promise<Capability> {
  for (let tries = 0; tries < 10_000; tries++) {
    const found = await coselect(k, 'port', 'COPORT', ns);
    if (E.isRight(found) && found.right.obj !== undefined) return found.right.obj;
    if (E.isLeft(found) && found.left._tag !== 'ENOENT') throw new Error(`coselect: ${found.left._tag}`);
    await ctx.thread.sleep(2);
  }
  throw new Error('the port never appeared');
}

/** Opens the named port and keeps it (and so the port) alive until the block's DONE flag is set. */
export async function owner(ctx: CoProcessContext): Promise<number> {
  const a = stressArgs(ctx);
  const block = ctx.capv[0]!;
  const { k, ns } = await join(ctx);
  const capacity = Number(ctx.argv[4] ?? 0);
  must('open_named_coport', await openNamedCoport(k, 'port', a.type, ns, capacity > 0 ? { capacity } : {}));
  report(ctx, 'opened', a.type);
  while (ctx.machine.loadI32(block, B.DONE) === 0) await ctx.thread.futexWait([{ cap: block, offset: B.DONE, expected: 0 }], 500);
  return 0;
}

/** argv[4] is this producer's index; sends its frames through a send-only handle. */
export async function producer(ctx: CoProcessContext): Promise<number> {
  const a = stressArgs(ctx);
  const p = Number(ctx.argv[4]);
  const { k, ns } = await join(ctx);
  const port = must('corestrict', await corestrict(k, await findPort(ctx, k, ns), CoportRight.SEND));
  const buf = must('malloc', ctx.malloc(FRAME));
  for (let seq = 0; seq < a.perProducer; seq++) {
    ctx.machine.store(buf, 0, frame(p, seq));
    must(`cosend ${seq}`, await cosend(k, port, buf, FRAME, { timeoutMs: 20_000 }));
  }
  report(ctx, 'sent', a.perProducer);
  return 0;
}

/** Receives frames until every producer's frames have been received by someone; counts each one. */
export async function consumer(ctx: CoProcessContext): Promise<number> {
  const a = stressArgs(ctx);
  const block = ctx.capv[0]!;
  const m = ctx.machine;
  const want = a.producers * a.perProducer;
  const { k, ns } = await join(ctx);
  const port = must('corestrict', await corestrict(k, await findPort(ctx, k, ns), CoportRight.RECV));
  const buf = must('malloc', ctx.malloc(FRAME));
  let mine = 0;
  while (m.loadI32(block, B.TOTAL) < want) {
    const r = await corecv(k, port, buf, FRAME, { timeoutMs: 50 });
    if (E.isLeft(r)) {
      if (r.left._tag === 'ETIMEDOUT' || r.left._tag === 'EAGAIN' || r.left._tag === 'EWOULDBLOCK') continue;
      throw new Error(`corecv: ${r.left._tag} (${r.left.message})`);
    }
    const got = m.load(buf, 0, r.right);
    const v = new DataView(got.buffer, got.byteOffset, got.byteLength);
    const [p, seq] = r.right === FRAME ? [v.getUint32(0, true), v.getUint32(4, true)] : [-1, -1];
    const hammered = p >= HAMMER_BASE;
    const expected = hammered || (p >= 0 && p < a.producers && seq < a.perProducer) ? frame(p, seq) : undefined;
    if (expected === undefined || expected.some((b, i) => b !== got[i])) {
      add(m, block, B.CORRUPT, 1);
    } else if (hammered) {
      add(m, block, B.HAMMER, 1);
      continue;
    } else {
      add(m, block, B.COUNTS + (p * a.perProducer + seq) * 4, 1);
    }
    mine++;
    add(m, block, B.TOTAL, 1);
  }
  report(ctx, 'received', mine);
  return 0;
}

/**
 * argv[1] is this hammer's producer number (≥ HAMMER_BASE): sends batches of 256 frames (8 KiB,
 * one long copy each) on the named port until it is killed — most likely mid-copy.
 */
export async function hammer(ctx: CoProcessContext): Promise<number> {
  const p = Number(ctx.argv[1]);
  const { k, ns } = await join(ctx);
  const port = await findPort(ctx, k, ns);
  const batch = 256;
  const buf = must('malloc', ctx.malloc(FRAME * batch));
  for (let seq = 0; ; seq += batch) {
    for (let i = 0; i < batch; i++) ctx.machine.store(buf, i * FRAME, frame(p, seq + i));
    must(`cosend ${seq}`, await cosend(k, port, buf, FRAME * batch, { timeoutMs: 20_000 }));
    if (seq === 0) report(ctx, 'hammering', p);
  }
}

/** Sends on the named port until a send blocks, then waits in it (up to 20 s) and reports how it ended. */
export async function blockedSender(ctx: CoProcessContext): Promise<number> {
  const { k, ns } = await join(ctx);
  const port = await findPort(ctx, k, ns);
  const buf = must('malloc', ctx.malloc(FRAME));
  ctx.machine.store(buf, 0, frame(0, 0));
  for (let i = 0; i < 10_000; i++) {
    const quick = await cosend(k, port, buf, FRAME, { timeoutMs: 0 });
    if (E.isLeft(quick)) break;
  }
  report(ctx, 'blocking', true);
  const t0 = ctx.now();
  const r = await cosend(k, port, buf, FRAME, { timeoutMs: 20_000 });
  report(ctx, 'unblocked', { tag: E.isLeft(r) ? r.left._tag : 'ok', waitedMs: Math.round(ctx.now() - t0) });
  return 0;
}
