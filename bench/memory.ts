/**
 * Memory per co-process, per namespace object and per coport: JS heap growth (after a forced
 * GC; run node with --expose-gc) divided by how many were made, plus the tagged (shared)
 * memory each one was granted.
 */
import { AddressSpace, COSETUP_COACCEPT, type Capability } from '@comsg/libcoproc';
import { cocreate, coinsert, openCoport, type CoportTypeName } from '@comsg/libcomsg';
import { inMicrokernel, ok } from './microkernel.js';
import { PORT_RECORD_BYTES } from '@comsg/ipcd';

export interface MemoryCost {
  readonly what: string;
  readonly count: number;
  /** JS heap bytes per item (GC'd before and after). */
  readonly heapBytes: number;
  /** Tagged-memory bytes per item (grants, rings, records). */
  readonly taggedBytes: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

export function gcAvailable(): boolean {
  return gc !== undefined;
}

/** Idle serving co-processes (one thread each, in coaccept with two 64 B buffers). */
export async function perCoProcess(count: number): Promise<MemoryCost> {
  const space = AddressSpace.create({ stdout: () => {} });
  const before = heap();
  for (let i = 0; i < count; i++) {
    space.spawn({
      name: `idle-${i}`,
      main: async (ctx) => {
        ok(ctx.thread.cosetup(COSETUP_COACCEPT), 'cosetup');
        const inbuf = ok(ctx.malloc(64), 'malloc');
        const outbuf = ok(ctx.malloc(64), 'malloc');
        await ctx.thread.coaccept(() => 0, { inbuf, outbuf });
      },
    });
  }
  await space.run();
  const after = heap();
  const granted = space.processes().reduce((a, p) => a + p.granted, 0);
  await space.shutdown();
  // Each grant here is one 64 B buffer; the SCB lives in kernel memory (256 B per thread).
  return { what: 'co-process (1 thread, serving)', count, heapBytes: (after - before) / count, taggedBytes: (granted * 64) / count + 256 };
}

/** Namespace objects (reservations) in one namespace, and coports of each type. */
export async function perObjectAndPort(objects: number, ports: number): Promise<MemoryCost[]> {
  const kernelOptions = {
    nsd: { limits: { objects: objects + 64, membersPerNamespace: objects + 64 }, quota: { objects: objects + 64 } },
    ipcd: { limits: { portsPerType: ports + 8, arenaBytes: 32 << 20, portsPerProcess: 4 * ports } },
  };
  return inMicrokernel({ memoryBytes: 128 << 20, kernel: kernelOptions }, async (_ctx, k, kernel) => {
    const out: MemoryCost[] = [];
    const ns = ok(await cocreate(k, 'mem', 'PUBLIC', k.root), 'cocreate').ns;
    const kept: Capability[] = [];
    let before = heap();
    for (let i = 0; i < objects; i++) kept.push(ok(await coinsert(k, `o${i}`, 'RESERVATION', undefined, ns), 'coinsert'));
    out.push({ what: 'namespace object (nsd entry + handle)', count: objects, heapBytes: (heap() - before) / objects, taggedBytes: 0 });
    for (const type of ['COCHANNEL', 'COPIPE', 'COCARRIER'] as CoportTypeName[]) {
      const arena0 = kernel.inspect().ipcd?.arenaBytes ?? 0;
      before = heap();
      for (let i = 0; i < ports; i++) kept.push(ok(await openCoport(k, type), `coopen ${type}`));
      const arena = (kernel.inspect().ipcd?.arenaBytes ?? 0) - arena0;
      // Every port also has a fixed record in ipcd's record table (allocated at start).
      out.push({ what: `coport ${type}`, count: ports, heapBytes: (heap() - before) / ports, taggedBytes: arena / ports + PORT_RECORD_BYTES });
    }
    void kept.length;
    return out;
  });
}
