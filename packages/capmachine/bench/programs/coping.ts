/**
 * Co-processes for the threads cocall benchmark: a fast and a slow 64-byte service, and a
 * driver that runs batches of cocalls when the host rings its control block (capv[0]):
 *   word 0: go (host bumps), 1: batch size, 2: kind (0 fast, 1 slow), 3: done (driver bumps),
 *   bytes 16..23: elapsed ns of the batch (f64).
 */
import * as E from 'fp-ts/lib/Either.js';
import { COSETUP_COACCEPT, COSETUP_COCALL, type Capability, type CoProcessApi } from '../../src/index.js';

function must<T>(e: E.Either<{ message: string }, T>): T {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
}

export async function service(ctx: CoProcessApi): Promise<void> {
  const slow = ctx.argv[1] === 'slow';
  must(ctx.thread.cosetup(COSETUP_COACCEPT));
  must(ctx.thread.coregister(slow ? 'bench-slow' : 'bench-fast'));
  const inbuf = must(ctx.malloc(64));
  const outbuf = must(ctx.malloc(64));
  const handler = (): number => 64; // reply: the 64 bytes in outbuf
  await (slow ? ctx.thread.coacceptSlow(handler, { inbuf, outbuf }) : ctx.thread.coaccept(handler, { inbuf, outbuf }));
}

async function lookup(ctx: CoProcessApi, name: string): Promise<Capability> {
  for (;;) {
    const t = ctx.thread.colookup(name);
    if (E.isRight(t)) {
      must(await ctx.thread.waitForTarget(t.right, 30_000));
      return t.right;
    }
    await ctx.thread.sleep(5);
  }
}

export async function driver(ctx: CoProcessApi): Promise<number> {
  const control = ctx.capv[0];
  if (control === undefined) throw new Error('driver needs its control block in capv[0]');
  must(ctx.thread.cosetup(COSETUP_COCALL));
  const out = must(ctx.malloc(64));
  const inb = must(ctx.malloc(64));
  ctx.machine.store(out, 0, new Uint8Array(64).fill(7));
  const fast = await lookup(ctx, 'bench-fast');
  const slow = await lookup(ctx, 'bench-slow');
  const m = ctx.machine;
  const th = ctx.thread;
  let seen = 0;
  m.storeU32(control, 12, 1); // ready
  th.futexWake(control, 12);
  for (;;) {
    await th.futexWait([{ cap: control, offset: 0, expected: seen }], -1);
    seen = m.loadI32(control, 0);
    if (seen < 0) return 0;
    const n = m.loadI32(control, 4);
    const kind = m.loadI32(control, 8);
    let r: E.Either<unknown, number> | undefined;
    const t0 = process.hrtime.bigint();
    if (kind === 0) for (let i = 0; i < n; i++) r = th.cocall(fast, out, 64, inb, 64);
    else for (let i = 0; i < n; i++) r = th.cocallSlow(slow, out, 64, inb, 64);
    const dt = Number(process.hrtime.bigint() - t0);
    if (r === undefined || E.isLeft(r) || r.right !== 64) throw new Error('benchmark cocall failed');
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, dt, true);
    m.store(control, 16, new Uint8Array(view.buffer));
    m.storeU32(control, 12, m.loadI32(control, 12) + 1);
    th.futexWake(control, 12);
  }
}
