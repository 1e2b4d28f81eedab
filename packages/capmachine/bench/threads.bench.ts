/**
 * Threads runtime: cocall round trip (64 B each way) between two co-process workers, side by
 * side in one run with the floors it is judged against:
 *   - a raw SharedArrayBuffer spin ping-pong copying the same bytes (target: cocall ≤ 2×),
 *   - a MessagePort ping-pong of a 64 B Uint8Array (target: cocall ≥ 100× faster),
 *   - cocall_slow, routed through the kernel thread by postMessage (target: fast ≥ 50× slow).
 * Cases are interleaved round by round; each sample is one batch's mean ns per round trip.
 *
 *   npm run bench -w packages/capmachine      (this file: node … bench/threads.bench.ts [--json] [--quick])
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { ThreadedAddressSpace, type Capability } from '../src/index.js';
import { printTable, summarize, type BenchResult } from './harness.js';

interface Driver {
  readonly name: string;
  readonly batch: number;
  /** Run one batch; resolves to ns per round trip. */
  readonly run: () => Promise<number>;
  readonly stop: () => Promise<void>;
}

/** A pair of plain workers driven through a control SAB (see peers.mjs). */
async function peerPair(name: string, kind: 'sab' | 'port', batch: number): Promise<Driver> {
  const control = new SharedArrayBuffer(64);
  const C = new Int32Array(control);
  const F = new Float64Array(control, 16, 1);
  const peers = new URL('./peers.mjs', import.meta.url);
  const sab = new SharedArrayBuffer(2048);
  const ch = new MessageChannel();
  const callee = new Worker(peers, { workerData: { role: `${kind}-callee`, control, sab, port: ch.port1 }, transferList: [ch.port1] });
  const caller = new Worker(peers, { workerData: { role: `${kind}-caller`, control, sab, port: ch.port2 }, transferList: [ch.port2] });
  await new Promise((r) => caller.once('message', r));
  let go = 0;
  return {
    name,
    batch,
    run: async () => {
      const done = Atomics.load(C, 3);
      Atomics.store(C, 1, batch);
      Atomics.store(C, 0, ++go);
      Atomics.notify(C, 0);
      for (;;) {
        const r = Atomics.waitAsync(C, 3, done, 60_000);
        if (r.async) await r.value;
        if (Atomics.load(C, 3) !== done) break;
      }
      return F[0]! / batch;
    },
    stop: async () => {
      Atomics.store(C, 0, -1);
      Atomics.notify(C, 0);
      await Promise.all([caller.terminate(), callee.terminate()]);
    },
  };
}

/** The cocall driver co-process, commanded through its control block (see programs/coping.ts). */
async function cocallDrivers(space: ThreadedAddressSpace, fastBatch: number, slowBatch: number): Promise<Driver[]> {
  const programs = new URL('./programs/coping.ts', import.meta.url).href;
  space.spawn({ module: programs, export: 'service', name: 'bench-fast' }, { argv: ['service', 'fast'] });
  space.spawn({ module: programs, export: 'service', name: 'bench-slow' }, { argv: ['service', 'slow'] });
  const control: Capability = space.allocateShared(64);
  const m = space.machine;
  space.spawn({ module: programs, export: 'driver', name: 'coping' }, { capv: [control] });
  if (!(await space.waitWord(control, 12, 0, 120_000))) throw new Error('cocall driver never became ready');
  let go = 0;
  const batch = (kind: number, n: number) => async (): Promise<number> => {
    const done = m.loadI32(control, 12);
    m.storeU32(control, 4, n);
    m.storeU32(control, 8, kind);
    m.storeU32(control, 0, ++go);
    space.wakeWord(control, 0);
    if (!(await space.waitWord(control, 12, done, 120_000))) throw new Error('cocall batch did not finish');
    return new DataView(m.load(control, 16, 8).buffer).getFloat64(0, true) / n;
  };
  const stop = async (): Promise<void> => {
    m.storeU32(control, 0, -1);
    space.wakeWord(control, 0);
  };
  return [
    { name: 'threads cocall 64 B round trip (fast)', batch: fastBatch, run: batch(0, fastBatch), stop },
    { name: 'threads cocall_slow 64 B round trip', batch: slowBatch, run: batch(1, slowBatch), stop },
  ];
}

export async function threadsBench(opts: { rounds?: number; quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const rounds = opts.rounds ?? (quick ? 2 : 15);
  const space = ThreadedAddressSpace.create({ stdout: () => {} });
  space.on('exit', (s) => {
    if (s.reason === 'fault') console.error('a benchmark co-process faulted:', s);
  });
  const drivers = [
    await peerPair('raw SAB spin ping-pong 64 B', 'sab', quick ? 2_000 : 200_000),
    ...(await cocallDrivers(space, quick ? 1_000 : 100_000, quick ? 50 : 2_000)),
    await peerPair('MessagePort ping-pong 64 B', 'port', quick ? 100 : 10_000),
  ];
  try {
    for (const d of drivers) await d.run(); // warm-up
    const samples = drivers.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (const [i, d] of drivers.entries()) samples[i]!.push(await d.run());
    }
    return drivers.map((d, i) => summarize(d.name, samples[i]!));
  } finally {
    for (const d of drivers) await d.stop();
    await space.shutdown();
  }
}

/** The ratios the targets are stated in. */
export function threadsRatios(results: readonly BenchResult[]): Record<string, number> {
  const get = (prefix: string): number => results.find((r) => r.name.startsWith(prefix))?.medianNs ?? NaN;
  const fast = get('threads cocall 64');
  return {
    'cocall / raw SAB spin (target ≤ 2)': fast / get('raw SAB'),
    'MessagePort / cocall (target ≥ 100)': get('MessagePort') / fast,
    'cocall_slow / cocall (target ≥ 50)': get('threads cocall_slow') / fast,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const results = await threadsBench({ quick });
  if (process.argv.includes('--json')) console.log(JSON.stringify({ results, ratios: threadsRatios(results) }, null, 2));
  else {
    printTable(results);
    for (const [k, v] of Object.entries(threadsRatios(results))) console.log(`${k}: ${v.toFixed(2)}`);
  }
}
