/**
 * Endurance: many coopen → cosend → corecv → coclose cycles, and coinsert → codelete churn,
 * sampling the JS heap (after GC) and the daemons' tables as it goes. Slots and memory must be
 * recycled: the heap stays flat and nothing is left open.
 */
import { coclose, codelete, coinsert, corecv, cosend, openCoport } from '@comsg/libcomsg';
import { inMicrokernel, ok } from './microkernel.js';

export interface EnduranceResult {
  readonly what: string;
  readonly cycles: number;
  readonly cyclesPerSec: number;
  /** JS heap (MiB) at each tenth of the run, after GC. */
  readonly heapMiB: number[];
  /** Last tenth's heap over the first tenth's. */
  readonly heapGrowth: number;
  /** What the daemons still hold at the end (should be nothing of the test's). */
  readonly leftOpen: number;
  readonly invariants: string[];
}

const gc = (globalThis as { gc?: () => void }).gc;
const heapMiB = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

export async function endurance(cycles: number): Promise<EnduranceResult[]> {
  return inMicrokernel({}, async (ctx, k, kernel) => {
    const out: EnduranceResult[] = [];
    const buf = ok(ctx.malloc(64), 'malloc');
    const tenth = Math.max(1, Math.floor(cycles / 10));
    const run = async (what: string, cycle: () => Promise<void>, leftOpen: () => number): Promise<void> => {
      const heap: number[] = [];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < cycles; i++) {
        if (i % tenth === 0) heap.push(heapMiB());
        await cycle();
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      heap.push(heapMiB());
      const problems = Object.entries(kernel.check()).flatMap(([d, p]) => p.map((x) => `${d}: ${x}`));
      out.push({ what, cycles, cyclesPerSec: cycles / secs, heapMiB: heap, heapGrowth: heap.at(-1)! / heap[1]!, leftOpen: leftOpen(), invariants: problems });
    };
    await run(
      'coopen + cosend + corecv + coclose (COCHANNEL, 64 B)',
      async () => {
        const port = ok(await openCoport(k, 'COCHANNEL'), 'coopen');
        ok(await cosend(k, port, buf, 64), 'cosend');
        ok(await corecv(k, port, buf, 64), 'corecv');
        ok(await coclose(k, port), 'coclose');
      },
      // Closed ports are released lazily (when a coopen needs the slot or the quota), so a
      // bounded number may still be held: at most the per-process port quota.
      () => kernel.inspect().ipcd?.portsByPid[ctx.pid] ?? 0,
    );
    await run(
      'coinsert + codelete (reservation)',
      async () => {
        const h = ok(await coinsert(k, 'churn', 'RESERVATION', undefined, k.root), 'coinsert');
        ok(await codelete(k, h, k.root), 'codelete');
      },
      () => (kernel.inspect().nsd?.usage[ctx.pid]?.objects ?? 0),
    );
    return out;
  });
}
