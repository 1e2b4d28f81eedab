/**
 * Programs for the in-process threads suite (both runtimes): a co-process whose threads serve
 * side by side and share its heap, and code one co-process loads that another links and
 * CInvokes. Observations are JSON lines, as in switcher.ts.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  COSETUP_COACCEPT,
  COSETUP_COCALL,
  Perm,
  PermSet,
  type CapMachine,
  type Capability,
  type CoProcessApi,
  type EntryCode,
} from '../../src/index.js';
import { lookup, ok, report } from './switcher.js';

/**
 * Three threads, each registered as pool-<i>, each answering with one shared counter (the
 * co-process's heap, which every thread shares) and its own index. The main thread goes on
 * after starting them — serving does not block it — and then parks.
 */
export async function pool(ctx: CoProcessApi): Promise<void> {
  let counter = 0;
  let started = 0;
  for (let i = 0; i < 3; i++) {
    ctx.spawnThread(`pool-${i}`, async (th) => {
      ok(th.cosetup(COSETUP_COACCEPT));
      ok(th.coregister(`pool-${i}`));
      const buf = ok(ctx.malloc(64));
      const session = ok(
        th.startAccepting(
          () => {
            counter++;
            ctx.machine.storeI32(buf, 0, counter);
            ctx.machine.storeI32(buf, 4, i);
            return 8;
          },
          { inbuf: buf, outbuf: buf },
        ),
      );
      started++;
      await th.park(session.stopped, session.stop);
    });
  }
  while (started < 3) await ctx.thread.sleep(1);
  report(ctx, 'pool-main-free', true);
  await ctx.thread.park(new Promise(() => {}));
}

/** Calls pool-0..2 round robin; reports the counters seen (one shared sequence) and who answered. */
export async function poolClient(ctx: CoProcessApi): Promise<number> {
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  const targets = [];
  for (let i = 0; i < 3; i++) targets.push(await lookup(ctx, `pool-${i}`));
  const out = ok(ctx.malloc(64));
  const inb = ok(ctx.malloc(64));
  const counters: number[] = [];
  const who: number[] = [];
  for (let k = 0; k < 30; k++) {
    ok(ctx.thread.cocall(targets[k % 3]!, out, 8, inb, 8));
    counters.push(ctx.machine.loadI32(inb, 0));
    who.push(ctx.machine.loadI32(inb, 4));
  }
  report(ctx, 'pool', { counters, who });
  return 0;
}

/** The code factory `owner` loads: `add` answers the parameter block's word 0 plus the argument. */
export function adderCode(m: CapMachine, params: Capability): Record<'add' | 'whose', EntryCode> {
  return {
    add: (_pcc, _data, arg) => m.loadI32(params, 0) + (arg as number),
    whose: (_pcc, data) => m.loadI32(data, 0),
  };
}

/**
 * Loads adderCode (parameter 1000), seals its entries and a data object with the otype the
 * host passed in capv[0], and hands both out through a cocall reply.
 */
export async function owner(ctx: CoProcessApi): Promise<void> {
  const key = ctx.capv[0];
  if (key === undefined) throw new Error('no sealing key in capv[0]');
  const m = ctx.machine;
  const params = ok(ctx.malloc(16));
  m.storeI32(params, 0, 1000);
  const code = ok(ctx.loadCode({ module: import.meta.url, export: 'adderCode', names: ['add', 'whose'], params }, adderCode));
  const obj = ok(ctx.malloc(16, PermSet.DATA | Perm.CINVOKE));
  m.storeI32(obj, 0, ctx.pid);
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  ok(ctx.thread.coregister('owner'));
  const inbuf = ok(ctx.malloc(64));
  const outbuf = ok(ctx.malloc(64));
  m.storeCap(outbuf, 0, m.seal(code.add, key));
  m.storeCap(outbuf, 16, m.seal(code.whose, key));
  m.storeCap(outbuf, 32, m.seal(obj, key));
  await ctx.thread.coaccept(() => 48, { inbuf, outbuf });
}

/** Gets the sealed entries from `owner`, links them and CInvokes them on its own thread. */
export async function linker(ctx: CoProcessApi): Promise<number> {
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  const target = await lookup(ctx, 'owner');
  const out = ok(ctx.malloc(64));
  const inb = ok(ctx.malloc(64));
  ok(ctx.thread.cocall(target, out, 16, inb, 48));
  const m = ctx.machine;
  const [add, whose, obj] = [m.loadCap(inb, 0), m.loadCap(inb, 16), m.loadCap(inb, 32)];
  const before = (() => {
    try {
      return m.cinvoke(add, obj, 1);
    } catch (e) {
      return (e as Error).name;
    }
  })();
  ok(await ctx.linkCode(add));
  const forged = await ctx.linkCode(out);
  report(ctx, 'link', {
    before: ctx.runtime === 'inline' ? 'linked' : before,
    add: m.cinvoke(add, obj, 23),
    whose: m.cinvoke(whose, obj),
    forged: E.isLeft(forged) ? forged.left._tag : 'ok',
  });
  return 0;
}

/** Takes argv[1] bytes of heap and reports whether it got them (memory reclaim tests). */
export function grabber(ctx: CoProcessApi): number {
  const r = ctx.malloc(Number(ctx.argv[1]));
  report(ctx, 'grab', E.isRight(r) ? 'ok' : r.left._tag);
  return 0;
}
