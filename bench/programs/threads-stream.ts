/**
 * The threads-runtime coport stream, as program modules (each runs on its own worker).
 * argv: [name, type, size, count, rounds, namespace, style] (style `sync`: cosendSync, see stream-ops). capv[0] is the host's block:
 * ROUND counts rounds the consumer finished (the producer waits for it between rounds),
 * START holds the producer's wall-clock start of the round in µs (two words), and the
 * consumer appends one sample per measured round, in KB/s (first send → last byte received).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability, CapMachine, CoProcessContext, SysError } from '@comsg/libcoproc';
import { coclose, cocreate, coprocInit, coselect, cosend, openNamedCoport, type CoportTypeName } from '@comsg/libcomsg';
import { streamRecv, streamSend } from './stream-ops.js';

export const S = { ROUND: 0, SAMPLES: 4, START_HI: 8, START_LO: 12, SAMPLE0: 16 } as const;
const CHANNEL_MAX = 1 << 16;
const SPLIT = 2 ** 30;

function ok<T>(what: string, r: E.Either<SysError, T>): T {
  if (E.isLeft(r)) throw new Error(`${what}: ${r.left._tag} (${r.left.message})`);
  return r.right;
}

/** Wall-clock microseconds: workers' performance.now() clocks have different origins. */
const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

function args(ctx: CoProcessContext) {
  const [, type, size, count, rounds, ns, style] = ctx.argv;
  return { type: type as CoportTypeName, size: Number(size), count: Number(count), rounds: Number(rounds), ns: ns ?? 'bench', sync: style === 'sync' };
}

async function waitRound(ctx: CoProcessContext, m: CapMachine, block: Capability, atLeast: number): Promise<void> {
  for (let r = m.loadI32(block, S.ROUND); r < atLeast; r = m.loadI32(block, S.ROUND)) await ctx.thread.futexWait([{ cap: block, offset: S.ROUND, expected: r }], 1000);
}

export async function producer(ctx: CoProcessContext): Promise<number> {
  const a = args(ctx);
  const block = ctx.capv[0]!;
  const m = ctx.machine;
  const k = ok('coproc_init', await coprocInit(ctx, { timeoutMs: 30_000 }));
  const ns = ok('cocreate', await cocreate(k, a.ns, 'APPLICATION', k.root)).ns;
  const port = ok('coopen', await openNamedCoport(k, 'stream', a.type, ns, { capacity: a.type === 'COCHANNEL' ? CHANNEL_MAX : 0 })).port;
  const buf = ok('malloc', ctx.malloc(a.size));
  m.store(buf, 0, new Uint8Array(a.size).fill(5));
  for (let r = 0; r <= a.rounds; r++) {
    await waitRound(ctx, m, block, r);
    const t0 = nowUs();
    m.storeI32(block, S.START_HI, Math.floor(t0 / SPLIT));
    m.storeI32(block, S.START_LO, t0 % SPLIT);
    for (let i = 0; i < a.count; i++) ok('cosend', streamSend(k, port, buf, a.size, a.sync) ?? (await cosend(k, port, buf, a.size, { timeoutMs: 30_000 })));
  }
  await waitRound(ctx, m, block, a.rounds + 1);
  ok('coclose', await coclose(k, port));
  return 0;
}

export async function consumer(ctx: CoProcessContext): Promise<number> {
  const a = args(ctx);
  const block = ctx.capv[0]!;
  const m = ctx.machine;
  const k = ok('coproc_init', await coprocInit(ctx, { timeoutMs: 30_000 }));
  const ns = ok('cocreate', await cocreate(k, a.ns, 'APPLICATION', k.root)).ns;
  let port: Capability | undefined;
  while (port === undefined) {
    const found = await coselect(k, 'stream', 'COPORT', ns);
    if (E.isRight(found)) port = found.right.obj;
    else await ctx.thread.sleep(1);
  }
  const bufLen = a.type === 'COCHANNEL' ? CHANNEL_MAX : a.size;
  const buf = ok('malloc', ctx.malloc(bufLen));
  const total = a.size * a.count;
  for (let r = 0; r <= a.rounds; r++) {
    let got = 0;
    while (got < total) got += ok('corecv', await streamRecv(k, port, buf, bufLen, a.sync));
    if (r > 0) {
      const t0 = m.loadI32(block, S.START_HI) * SPLIT + m.loadI32(block, S.START_LO);
      const n = m.loadI32(block, S.SAMPLES);
      m.storeI32(block, S.SAMPLE0 + n * 4, Math.round((total * 1e3) / Math.max(1, nowUs() - t0)));
      m.storeI32(block, S.SAMPLES, n + 1);
    }
    m.fetchAddI32(block, S.ROUND, 1);
    ctx.thread.futexWake(block, S.ROUND);
  }
  return 0;
}
