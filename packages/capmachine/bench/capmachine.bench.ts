/**
 * capmachine micro-benchmarks, measured side by side in one run:
 * decode, setBounds, checked 64-byte load/store, capability load/store, and a checked
 * 64-byte copy through capabilities against a plain Uint8Array.set of 64 bytes (target: ≤ 3×).
 *
 *   npm run bench -w packages/capmachine            (add -- --json for machine-readable output)
 */
import { CapMachine, PermSet, cc128 } from '../src/index.js';
import { printTable, runBench, type BenchCase } from './harness.js';

/** The cases, each built on its own booted machine (the suite runs them next to others). */
export function capmachineCases(): BenchCase[] {
  const { machine, roots } = CapMachine.boot({ memoryBytes: 1 << 20 });
  const heap = machine.restrict(roots.memory, 0x10000n, 0x10000n, PermSet.DATA);
  const src = machine.restrict(heap, 0x100n, 0x100n, PermSet.DATA);
  const dst = machine.restrict(heap, 0x800n, 0x100n, PermSet.DATA);
  const jsSrc = new Uint8Array(64).fill(7);
  const jsDst = new Uint8Array(256);
  const plainA = new Uint8Array(4096);
  const sabDst = new Uint8Array(new SharedArrayBuffer(4096));
  machine.storeCap(heap, 0x2000, src);
  const pesbt = src.pesbt;
  let addr = 0x10100n;

  return [
    { name: 'plain Uint8Array.set 64 B (ArrayBuffer)', run: (n) => { for (let i = 0; i < n; i++) plainA.set(jsSrc, (i & 31) * 64); return plainA; } },
    { name: 'plain Uint8Array.set 64 B (into SAB)', run: (n) => { for (let i = 0; i < n; i++) sabDst.set(jsSrc, (i & 31) * 64); return sabDst; } },
    { name: 'checked copy 64 B cap→cap (machine.copy)', run: (n) => { for (let i = 0; i < n; i++) machine.copy(dst, 0, src, 0, 64); return dst; } },
    { name: 'checked load 64 B into JS buffer', run: (n) => { for (let i = 0; i < n; i++) machine.load(src, 0, 64, jsDst, 0); return jsDst; } },
    { name: 'checked store 64 B from JS buffer', run: (n) => { for (let i = 0; i < n; i++) machine.store(dst, 0, jsSrc); return dst; } },
    { name: 'capability load (CLC)', run: (n) => { let c; for (let i = 0; i < n; i++) c = machine.loadCap(heap, 0x2000); return c; } },
    { name: 'capability store (CSC)', run: (n) => { for (let i = 0; i < n; i++) machine.storeCap(heap, 0x2010, src); return heap; } },
    { name: 'cc128 decode (bounds)', run: (n) => { let d; for (let i = 0; i < n; i++) { addr ^= 0x10n; d = cc128.decodeBounds(pesbt, addr); } return d; } },
    { name: 'setBounds (CSetBounds)', run: (n) => { let c; for (let i = 0; i < n; i++) c = machine.setBounds(heap, 0x123n + BigInt(i & 7)); return c; } },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = runBench(capmachineCases(), { batch: 500, rounds: 300 });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    printTable(results);
    const plain = results[0]!.medianNs;
    const copy = results[2]!.medianNs;
    const load = results[3]!.medianNs;
    console.log(`\nchecked 64 B copy / plain Uint8Array.set 64 B = ${(copy / plain).toFixed(2)}x (target <= 3x)`);
    console.log(`checked 64 B load into JS / plain Uint8Array.set 64 B = ${(load / plain).toFixed(2)}x`);
  }
}
