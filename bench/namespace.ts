/**
 * Namespace operations against a table that already holds N objects: a batch of coinsert
 * (fresh names), coselect (names already there) and codelete (the batch just inserted), so
 * the table stays at N. Each op's cost should not grow with N.
 */
import type { Capability } from '@comsg/libcoproc';
import { codelete, cocreate, coinsert, coselect } from '@comsg/libcomsg';
import { inMicrokernel, ok } from './microkernel.js';

export interface NamespaceSample {
  readonly objects: number;
  /** ns per operation, one entry per round. */
  readonly insert: number[];
  readonly select: number[];
  readonly delete: number[];
}

export async function namespaceScaling(sizes: readonly number[], batch: number, rounds: number): Promise<NamespaceSample[]> {
  const most = Math.max(...sizes) + batch + 64; // + the daemons' own entries in root
  return inMicrokernel({ memoryBytes: 64 << 20, kernel: { nsd: { limits: { objects: most, membersPerNamespace: most }, quota: { objects: most } } } }, async (_ctx, k) => {
    const out: NamespaceSample[] = [];
    const ns = ok(await cocreate(k, 'bench', 'PUBLIC', k.root), 'cocreate').ns;
    let filled = 0;
    for (const n of [...sizes].sort((a, b) => a - b)) {
      for (; filled < n; filled++) ok(await coinsert(k, `fill-${filled}`, 'RESERVATION', undefined, ns), 'fill');
      const s: NamespaceSample = { objects: n, insert: [], select: [], delete: [] };
      for (let r = 0; r <= rounds; r++) {
        const handles: Capability[] = [];
        let t = process.hrtime.bigint();
        for (let i = 0; i < batch; i++) handles.push(ok(await coinsert(k, `b${r}-${i}`, 'RESERVATION', undefined, ns), 'coinsert'));
        const ins = Number(process.hrtime.bigint() - t) / batch;
        t = process.hrtime.bigint();
        for (let i = 0; i < batch; i++) ok(await coselect(k, `fill-${(i * 7919) % n}`, 'RESERVATION', ns), 'coselect');
        const sel = Number(process.hrtime.bigint() - t) / batch;
        t = process.hrtime.bigint();
        for (const h of handles) ok(await codelete(k, h, ns), 'codelete');
        const del = Number(process.hrtime.bigint() - t) / batch;
        if (r > 0) (s.insert.push(ins), s.select.push(sel), s.delete.push(del));
      }
      out.push(s);
    }
    return out;
  });
}
