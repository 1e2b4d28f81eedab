/**
 * `npm run bench`: the whole benchmark suite in one process run, every comparison measured
 * side by side (warm-up, several rounds, median and p99), printed as tables with the ratios
 * the targets are stated in, and written as JSON.
 *
 *   npm run bench                       full run (several minutes)
 *   npm run bench -- --quick            a few seconds; checks the suite end to end
 *   npm run bench -- --json             the JSON report on stdout instead of tables
 *   npm run bench -- --out FILE         where the JSON goes (default bench-results/latest.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { capmachineCases } from '../packages/capmachine/bench/capmachine.bench.js';
import { cocallBench } from '../packages/capmachine/bench/cocall.bench.js';
import { runBench, summarize, type BenchResult } from '../packages/capmachine/bench/harness.js';
import { threadsBench } from '../packages/capmachine/bench/threads.bench.js';
import type { CoportTypeName } from '@comsg/libcomsg';
import { copyCeiling, postMessageStream, sabRingStream, unixSocketStream, type StreamSpec } from './baselines.js';
import { coportThroughput } from './coports.js';
import { threadsCoportThroughput } from './threads-coports.js';
import { endurance, type EnduranceResult } from './endurance.js';
import { gcAvailable, perCoProcess, perObjectAndPort, type MemoryCost } from './memory.js';
import { namespaceScaling } from './namespace.js';
import { Steadiness, spread, type SteadinessProbe } from './steadiness.js';

export interface Throughput {
  readonly name: string;
  readonly size: number;
  /** MB/s (10^6 bytes per second). */
  readonly medianMBps: number;
  readonly p99MBps: number;
  readonly medianMsgsPerSec: number;
  readonly samples: number;
}

export interface NamespaceRow {
  readonly op: 'coinsert' | 'coselect' | 'codelete';
  readonly objects: number;
  readonly medianNs: number;
  readonly p99Ns: number;
  readonly opsPerSec: number;
}

export interface Ratio {
  readonly name: string;
  readonly value: number;
  readonly target: string;
  readonly met: boolean;
}

export interface SuiteReport {
  readonly command: string;
  readonly quick: boolean;
  readonly machine: { readonly node: string; readonly platform: string; readonly cpus: number; readonly cpu: string; readonly memoryGiB: number };
  readonly date: string;
  readonly capmachine: readonly BenchResult[];
  readonly cocall: readonly BenchResult[];
  readonly coports: readonly Throughput[];
  readonly namespace: readonly NamespaceRow[];
  readonly memory: readonly MemoryCost[];
  readonly endurance: readonly EnduranceResult[];
  readonly ratios: readonly Ratio[];
  /** The host-steadiness probes before each section and at the end (see bench/steadiness.ts). */
  readonly steadiness: readonly SteadinessProbe[];
}

const SIZES = [64, 4096, 65536] as const;
const TYPES: readonly CoportTypeName[] = ['COCHANNEL', 'COPIPE', 'COCARRIER'];

/**
 * Messages per round for a size, fewer in quick mode. Every stream runs in fresh workers, whose
 * code the JIT has not compiled yet: a round of a few hundred messages measured mostly warm-up
 * (400 × 64 KiB over COPIPE on threads: 30–280 µs a message, falling round by round), so even
 * the largest size streams thousands per round. At 64 B, 20 000 a round still left a COCHANNEL
 * send at ~1.7× its steady cost (≈640 vs ≈360 ns), so small streams run 100 000 — except over
 * COCARRIER, three microkernel calls a message, where 20 000 already take a second a round.
 */
function specFor(size: number, quick: boolean, type?: CoportTypeName): StreamSpec {
  const small = type === 'COCARRIER' ? 20_000 : 100_000;
  const count = quick ? (size === 64 ? 200 : size === 4096 ? 40 : 8) : size === 64 ? small : size === 4096 ? 8_000 : 4_000;
  return { size, count, rounds: quick ? 2 : 7 };
}

/** A stream case: a coport type, its spec, and the producer's style (see bench/programs/stream-ops.ts). */
interface StreamCase {
  readonly type: CoportTypeName;
  readonly spec: StreamSpec;
  readonly sync?: boolean;
}

/** Every type at every size with `await cosend`; COCHANNEL also with cosendSync (COPIPE/COCARRIER cannot send without a waiting peer or an ipcd call). */
function streamCases(type: CoportTypeName, quick: boolean): StreamCase[] {
  const cases: StreamCase[] = SIZES.map((size) => ({ type, spec: specFor(size, quick, type) }));
  if (type === 'COCHANNEL') cases.push(...SIZES.map((size) => ({ type, spec: specFor(size, quick, type), sync: true })));
  return cases;
}

const streamName = (c: StreamCase, runtime = ''): string => `${runtime}${c.type}${c.sync === true ? ' (cosendSync)' : ''} ${sizeName(c.spec.size)}`;

function throughput(name: string, spec: StreamSpec, bytesPerSec: readonly number[]): Throughput {
  // Summarise seconds per byte (lower is better), so p99 is the slow tail, then invert.
  const s = summarize(name, bytesPerSec.map((b) => 1 / b));
  return { name, size: spec.size, medianMBps: 1 / s.medianNs / 1e6, p99MBps: 1 / s.p99Ns / 1e6, medianMsgsPerSec: 1 / s.medianNs / spec.size, samples: s.samples };
}

const sizeName = (n: number) => (n >= 1024 ? `${n / 1024} KiB` : `${n} B`);

export async function runSuite(options: { quick?: boolean; progress?: (step: number, of: number, what: string) => void } = {}): Promise<SuiteReport> {
  const quick = options.quick ?? false;
  const steadiness = new Steadiness();
  try {
    return await sections(quick, steadiness, options.progress);
  } finally {
    await steadiness.close();
  }
}

async function sections(quick: boolean, steadiness: Steadiness, report?: (step: number, of: number, what: string) => void): Promise<SuiteReport> {
  const steps = 7 + TYPES.length;
  let step = 0;
  const progress = async (what: string) => {
    report?.(++step, steps, what);
    await steadiness.probe(what);
  };

  await progress('capmachine operations');
  const capmachine = runBench(capmachineCases(), quick ? { batch: 100, rounds: 10, warmup: 5, warmupMs: 0 } : { batch: 500, rounds: 300 });

  await progress('cocall round trips (inline and threads)');
  const inline = await cocallBench({ rounds: quick ? 10 : 300 });
  const threads = await threadsBench({ quick });
  const cocall = [...inline, ...threads];

  const coports: Throughput[] = [];
  for (const type of TYPES) {
    await progress(`${type} throughput at ${SIZES.map(sizeName).join(', ')}`);
    const cases = streamCases(type, quick);
    const samples = await coportThroughput(cases);
    cases.forEach((c, i) => coports.push(throughput(streamName(c), c.spec, samples[i]!)));
  }
  await progress('coport throughput on the threads runtime (microkernel, producer, consumer on workers)');
  {
    const cases = TYPES.flatMap((type) => streamCases(type, quick));
    const samples = await threadsCoportThroughput(cases);
    cases.forEach((c, i) => coports.push(throughput(streamName(c, 'threads '), c.spec, samples[i]!)));
  }
  await progress('baselines: postMessage (clone, transfer), Unix-domain socket, raw SAB ring, copy ceiling');
  for (const size of SIZES) {
    const spec = specFor(size, quick);
    coports.push(throughput(`postMessage clone ${sizeName(size)}`, spec, await postMessageStream('clone', spec)));
    coports.push(throughput(`postMessage transfer ${sizeName(size)}`, spec, await postMessageStream('transfer', spec)));
    coports.push(throughput(`unix socket ${sizeName(size)}`, spec, await unixSocketStream(spec)));
    coports.push(throughput(`raw SAB ring ${sizeName(size)}`, spec, await sabRingStream(spec)));
    coports.push(throughput(`copy ceiling ${sizeName(size)}`, spec, copyCeiling(spec)));
  }

  await progress('namespace operations as the table grows');
  const sizes = quick ? [1_000, 5_000] : [1_000, 10_000, 100_000];
  const ns = await namespaceScaling(sizes, quick ? 100 : 1_000, quick ? 2 : 7);
  const namespace: NamespaceRow[] = ns.flatMap((s) =>
    (['insert', 'select', 'delete'] as const).map((op) => {
      const r = summarize(op, s[op]);
      return { op: `co${op}` as NamespaceRow['op'], objects: s.objects, medianNs: r.medianNs, p99Ns: r.p99Ns, opsPerSec: 1e9 / r.medianNs };
    }),
  );

  await progress('memory per co-process, namespace object and coport');
  const memory = [await perCoProcess(quick ? 50 : 500), ...(await perObjectAndPort(quick ? 500 : 10_000, quick ? 50 : 200))];

  const cycles = quick ? 2_000 : 1_000_000;
  await progress(`endurance: ${cycles} open/send/recv/close cycles and ${cycles} insert/delete cycles`);
  const soak = await endurance(cycles);
  await steadiness.probe('end of run');

  const ratios = ratiosOf(cocall, coports, namespace);
  for (const e of soak) {
    ratios.push({ name: `heap after ÷ early in: ${e.what}`, value: e.heapGrowth, target: '≤ 1.2 (flat)', met: e.heapGrowth <= 1.2 });
  }
  return {
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    quick,
    machine: { node: process.version, platform: `${platform()} ${release()}`, cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30) },
    date: new Date().toISOString(),
    capmachine,
    cocall,
    coports,
    namespace,
    memory,
    endurance: soak,
    ratios,
    steadiness: steadiness.probes,
  };
}

export function ratiosOf(cocall: readonly BenchResult[], coports: readonly Throughput[], namespace: readonly NamespaceRow[]): Ratio[] {
  const ns = (prefix: string) => cocall.find((r) => r.name.startsWith(prefix))?.medianNs ?? NaN;
  const mbps = (name: string) => coports.find((r) => r.name === name)?.medianMBps ?? NaN;
  const ratio = (name: string, value: number, target: string, met: (v: number) => boolean): Ratio => ({ name, value, target, met: met(value) });
  const bestPost64 = Math.max(mbps('postMessage clone 64 B'), mbps('postMessage transfer 64 B'));
  const out: Ratio[] = [
    ratio('inline cocall / plain call', ns('inline cocall 64 B round trip (fast)') / ns('plain call'), '≤ 5', (v) => v <= 5),
    ratio('inline cocall_slow / cocall', ns('inline cocall_slow') / ns('inline cocall 64 B round trip (fast), paired'), '(reported)', () => true),
    ratio('threads cocall / raw SAB spin', ns('threads cocall 64') / ns('raw SAB'), '≤ 2', (v) => v <= 2),
    ratio('MessagePort / threads cocall', ns('MessagePort') / ns('threads cocall 64'), '≥ 100', (v) => v >= 100),
    ratio('threads cocall_slow / cocall', ns('threads cocall_slow') / ns('threads cocall 64'), '≥ 50', (v) => v >= 50),
    // postMessage is a synchronous enqueue: the like-for-like producer is cosendSync. The
    // `await cosend` stream (an await per message) is reported beside it.
    ratio('COCHANNEL (cosendSync) 64 B / best postMessage 64 B', mbps('COCHANNEL (cosendSync) 64 B') / bestPost64, '≥ 8', (v) => v >= 8),
    ratio('COCHANNEL (await cosend) 64 B / best postMessage 64 B', mbps('COCHANNEL 64 B') / bestPost64, '(reported)', () => true),
    ratio('COPIPE 64 KiB / copy ceiling 64 KiB', mbps('COPIPE 64 KiB') / mbps('copy ceiling 64 KiB'), '≥ 0.5', (v) => v >= 0.5),
    ratio('threads COCHANNEL (cosendSync) 64 B / best postMessage 64 B', mbps('threads COCHANNEL (cosendSync) 64 B') / bestPost64, '≥ 8', (v) => v >= 8),
    ratio('threads COCHANNEL (await cosend) 64 B / best postMessage 64 B', mbps('threads COCHANNEL 64 B') / bestPost64, '(reported)', () => true),
    // The most any shared-memory stream reaches here: two workers spinning on a bare ring.
    ratio('raw SAB ring 64 B / best postMessage 64 B (the ceiling for the row above)', mbps('raw SAB ring 64 B') / bestPost64, '(reported)', () => true),
    ratio('threads COCHANNEL (cosendSync) 64 B / raw SAB ring 64 B', mbps('threads COCHANNEL (cosendSync) 64 B') / mbps('raw SAB ring 64 B'), '(reported)', () => true),
    ratio('threads COPIPE 64 KiB / copy ceiling 64 KiB', mbps('threads COPIPE 64 KiB') / mbps('copy ceiling 64 KiB'), '≥ 0.5', (v) => v >= 0.5),
  ];
  for (const type of ['COCHANNEL (cosendSync)', 'COCHANNEL', 'COPIPE', 'COCARRIER'] as const) {
    for (const size of ['64 B', '4 KiB', '64 KiB']) {
      if (type.startsWith('COCHANNEL') && size === '64 B') continue; // rows above
      const best = Math.max(mbps(`postMessage clone ${size}`), mbps(`postMessage transfer ${size}`));
      out.push(ratio(`threads ${type} ${size} / best postMessage ${size}`, mbps(`threads ${type} ${size}`) / best, '(reported)', () => true));
    }
  }
  for (const op of ['coinsert', 'coselect', 'codelete'] as const) {
    const rows = namespace.filter((r) => r.op === op).sort((a, b) => a.objects - b.objects);
    const first = rows[0];
    const last = rows.at(-1);
    if (first !== undefined && last !== undefined && last !== first) {
      out.push(ratio(`${op} at ${last.objects} / at ${first.objects} objects`, last.medianNs / first.medianNs, '≤ 2 (flat)', (v) => v <= 2));
    }
  }
  return out;
}

function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(headers), ...rows.map(line)];
}

export function renderReport(r: SuiteReport): string[] {
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');
  const out: string[] = [];
  out.push(`comsg-ts benchmark suite (${r.command}) — ${r.machine.cpus}× ${r.machine.cpu}, node ${r.machine.node}, ${r.date}`);
  out.push('', '## capmachine operations', ...table(['case', 'median ns', 'p99 ns'], r.capmachine.map((x) => [x.name, f(x.medianNs), f(x.p99Ns)])));
  out.push('', '## cocall round trips', ...table(['case', 'median ns', 'p99 ns'], r.cocall.map((x) => [x.name, f(x.medianNs), f(x.p99Ns)])));
  out.push('', '## one-way throughput', ...table(['stream', 'median MB/s', 'p99 MB/s', 'msgs/s'], r.coports.map((x) => [x.name, f(x.medianMBps), f(x.p99MBps), f(x.medianMsgsPerSec, 0)])));
  out.push('', '## namespace operations', ...table(['op', 'objects', 'median ns', 'p99 ns', 'ops/s'], r.namespace.map((x) => [x.op, String(x.objects), f(x.medianNs), f(x.p99Ns), f(x.opsPerSec, 0)])));
  out.push('', '## memory', ...table(['per', 'count', 'JS heap B', 'tagged B'], r.memory.map((x) => [x.what, String(x.count), f(x.heapBytes, 0), f(x.taggedBytes, 0)])));
  out.push('', '## endurance', ...table(['cycle', 'cycles', 'cycles/s', 'heap MiB (tenths)', 'held at end', 'invariants'], r.endurance.map((x) => [x.what, String(x.cycles), f(x.cyclesPerSec, 0), x.heapMiB.map((h) => h.toFixed(1)).join(' '), String(x.leftOpen), x.invariants.length === 0 ? 'ok' : x.invariants.join('; ')])));
  const alone = spread(r.steadiness.map((p) => p.aloneMs));
  const paired = spread(r.steadiness.map((p) => p.pairedMs));
  const memory = spread(r.steadiness.map((p) => p.memoryMs));
  out.push(
    '',
    '## host steadiness (fixed probes before each section, ms)',
    ...table(
      ['probe', 'min', 'median', 'max', 'max ÷ min'],
      [
        ['ALU loop alone', f(alone.min, 2), f(alone.median, 2), f(alone.max, 2), f(alone.ratio, 2)],
        ['ALU loop while a worker spins on another core', f(paired.min, 2), f(paired.median, 2), f(paired.max, 2), f(paired.ratio, 2)],
        ['memory walk (16 MiB, dependent loads)', f(memory.min, 2), f(memory.median, 2), f(memory.max, 2), f(memory.ratio, 2)],
      ],
    ),
    `paired ÷ alone (medians): ${f(paired.median / alone.median, 2)}`,
  );
  out.push('', '## ratios against targets', ...table(['ratio', 'value', 'target', 'met'], r.ratios.map((x) => [x.name, f(x.value, 2), x.target, x.met ? 'yes' : 'NO'])));
  return out;
}

function progressPrinter(): (step: number, of: number, what: string) => void {
  const tty = process.stderr.isTTY === true;
  return (step, of, what) => {
    const bar = `[${'#'.repeat(step).padEnd(of, '.')}]`;
    if (tty) process.stderr.write(`\r\x1b[K${bar} ${step}/${of} ${what}`);
    else process.stderr.write(`${bar} ${step}/${of} ${what}\n`);
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : 'bench-results/latest.json';
  if (out === undefined) {
    console.error('bench: --out needs a file name');
    process.exit(2);
  }
  if (!gcAvailable()) console.error('bench: run with --expose-gc for the memory figures (npm run bench does)');
  const report = await runSuite({ quick, progress: progressPrinter() });
  if (process.stderr.isTTY === true) process.stderr.write('\n');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  if (argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else {
    for (const l of renderReport(report)) console.log(l);
    console.log(`\nJSON: ${out}`);
  }
}
