/**
 * coping-style: inline cocall round trip with 64-byte request and reply, side by side with a
 * plain function call that copies the same bytes in and out (target: cocall ≤ 5× the plain
 * call), and with cocall_slow.
 *
 *   npm run bench -w packages/capmachine -- cocall        (add --json for raw numbers)
 */
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, COSETUP_COACCEPT, COSETUP_COCALL, type Capability, type CoProcessContext } from '../src/index.js';
import { printTable, runBench, type BenchCase, type BenchResult } from './harness.js';

function must<T>(e: E.Either<{ message: string }, T>): T {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
}

export async function cocallBench(opts: { rounds?: number } = {}): Promise<BenchResult[]> {
  const space = AddressSpace.create();
  const service = (name: string, slow: boolean) => ({
    name,
    main: async (ctx: CoProcessContext) => {
      must(ctx.thread.cosetup(COSETUP_COACCEPT));
      must(ctx.thread.coregister(name));
      const inbuf = must(ctx.malloc(64));
      const outbuf = must(ctx.malloc(64));
      const handler = (): number => 64; // reply = the 64 bytes already in outbuf
      await (slow ? ctx.thread.coacceptSlow(handler, { inbuf, outbuf }) : ctx.thread.coaccept(handler, { inbuf, outbuf }));
    },
  });
  space.spawn(service('fast', false));
  space.spawn(service('slow', true));
  let results: BenchResult[] = [];
  space.spawn({
    name: 'coping',
    main: async (ctx) => {
      await ctx.thread.yield();
      must(ctx.thread.cosetup(COSETUP_COCALL));
      const out = must(ctx.malloc(64));
      const inb = must(ctx.malloc(64));
      const fast: Capability = must(ctx.thread.colookup('fast'));
      const slow: Capability = must(ctx.thread.colookup('slow'));
      const th = ctx.thread;
      // The plain baseline: a function that copies the request in and the reply out.
      const req = new Uint8Array(64).fill(1);
      const serverIn = new Uint8Array(64);
      const serverOut = new Uint8Array(64).fill(2);
      const reply = new Uint8Array(64);
      const plain = (rq: Uint8Array, rp: Uint8Array): number => {
        serverIn.set(rq);
        rp.set(serverOut);
        return 64;
      };
      const plainCase: BenchCase = { name: 'plain call copying 64 B in + 64 B out', run: (n) => { let s = 0; for (let i = 0; i < n; i++) s += plain(req, reply); return s; } };
      const fastCase: BenchCase = { name: 'inline cocall 64 B round trip (fast)', run: (n) => { let r; for (let i = 0; i < n; i++) r = th.cocall(fast, out, 64, inb, 64); return r; } };
      const slowCase: BenchCase = { name: 'inline cocall_slow 64 B round trip', run: (n) => { let r; for (let i = 0; i < n; i++) r = th.cocallSlow(slow, out, 64, inb, 64); return r; } };
      // Sanity: the calls succeed before they are timed.
      if (E.isLeft(th.cocall(fast, out, 64, inb, 64)) || E.isLeft(th.cocallSlow(slow, out, 64, inb, 64))) throw new Error('cocall failed');
      // Two interleaved pairs: the slow path allocates (it unseals every call), and its GC
      // must not land in the batches of the pair that carries the 5x target.
      const rounds = opts.rounds ?? 300;
      const [p, f] = runBench([plainCase, fastCase], { batch: 200, rounds });
      const [f2, s] = runBench([fastCase, slowCase], { batch: 200, rounds });
      results = [p!, f!, s!, { ...f2!, name: `${f2!.name}, paired with slow` }];
    },
  });
  await space.run();
  await space.shutdown();
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await cocallBench();
  if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
  else {
    printTable(results);
    const [plain, fast, slow, fast2] = results.map((r) => r.medianNs) as [number, number, number, number];
    console.log(`\ninline cocall / plain call = ${(fast / plain).toFixed(2)}x (target <= 5x)`);
    console.log(`cocall_slow / cocall = ${(slow / fast2).toFixed(2)}x`);
  }
}
