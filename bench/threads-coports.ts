/**
 * Coport one-way throughput on the threads runtime: the microkernel, the producer and the
 * consumer each on a worker thread; the same stream shape as the inline case (coports.ts).
 */
import { bootMicrokernel, createAddressSpace } from '@comsg/libcoproc';
import type { CoportTypeName } from '@comsg/libcomsg';
import type { StreamSpec } from './baselines.js';
import { ok } from './microkernel.js';
import { S } from './programs/threads-stream.js';

const programs = new URL('./programs/threads-stream.ts', import.meta.url).href;

/** Bytes/s samples per (type, spec) pair, all in one threads address space. */
export async function threadsCoportThroughput(cases: ReadonlyArray<{ type: CoportTypeName; spec: StreamSpec; sync?: boolean }>): Promise<number[][]> {
  const space = createAddressSpace({ runtime: 'threads', stdout: (l) => process.stderr.write(`${l}\n`), memoryBytes: 128 << 20 });
  const kernel = bootMicrokernel(space, { ipcd: { limits: { arenaBytes: 40 << 20, maxChannelBytes: 1 << 16 } } });
  try {
    ok(await kernel.ready, 'boot');
    const results: number[][] = [];
    for (const [i, { type, spec, sync }] of cases.entries()) {
      const block = space.allocateShared(S.SAMPLE0 + 4 * (spec.rounds + 1));
      const argv = (name: string) => [name, type, String(spec.size), String(spec.count), String(spec.rounds), `bench-${i}`, sync === true ? 'sync' : 'await'];
      const done = await Promise.all(
        ['consumer', 'producer'].map((p) => space.spawn({ module: programs, export: p, name: `bench-${p}` }, { argv: argv(p), capv: [block] }).exited),
      );
      const bad = done.find((s) => s.code !== 0);
      if (bad !== undefined) throw new Error(`threads ${type} stream failed: ${bad.reason} ${String(bad.error ?? bad.code)}`);
      const m = space.machine;
      results.push(Array.from({ length: m.loadI32(block, S.SAMPLES) }, (_, r) => m.loadI32(block, S.SAMPLE0 + r * 4) * 1e3));
    }
    return results;
  } finally {
    await space.shutdown();
  }
}
