/**
 * Minimal side-by-side timing: each case runs in batches of `batch` ops; one sample is the
 * mean ns/op of a batch; median and p99 are over samples. Warm-up first, cases interleaved
 * round-robin so machine noise hits them all alike.
 *
 * The warm-up is counted in batches and in time, whichever is longer: in a process that had
 * already run other cases, 50 batches of inline cocall still measured the code while V8 was
 * re-optimising it (300–550 ns a call, against 110 ns for the same call measured later in the
 * same run), so every case warms for at least `warmupMs`.
 */
export interface BenchCase {
  readonly name: string;
  /** Runs the operation `n` times; returns something to keep the JIT honest. */
  readonly run: (n: number) => unknown;
}

export interface BenchResult {
  readonly name: string;
  readonly medianNs: number;
  readonly p99Ns: number;
  readonly samples: number;
}

let sink: unknown;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Median and p99 of one case's samples (ns per op), as every table reports them. */
export function summarize(name: string, samples: readonly number[]): BenchResult {
  const s = [...samples].sort((a, b) => a - b);
  return { name, medianNs: quantile(s, 0.5), p99Ns: quantile(s, 0.99), samples: s.length };
}

export function runBench(cases: readonly BenchCase[], opts: { batch?: number; rounds?: number; warmup?: number; warmupMs?: number } = {}): BenchResult[] {
  const batch = opts.batch ?? 1000;
  const rounds = opts.rounds ?? 200;
  const warmUntil = performance.now() + (opts.warmupMs ?? 250);
  for (let i = 0; i < (opts.warmup ?? 50) || performance.now() < warmUntil; i++) for (const c of cases) sink = c.run(batch);
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    cases.forEach((c, i) => {
      const t0 = process.hrtime.bigint();
      sink = c.run(batch);
      const dt = Number(process.hrtime.bigint() - t0);
      samples[i]!.push(dt / batch);
    });
  }
  void sink;
  return cases.map((c, i) => summarize(c.name, samples[i]!));
}

export function printTable(results: readonly BenchResult[]): void {
  const w = Math.max(...results.map((r) => r.name.length));
  console.log(`${'case'.padEnd(w)}  ${'median ns/op'.padStart(12)}  ${'p99 ns/op'.padStart(10)}`);
  for (const r of results) {
    console.log(`${r.name.padEnd(w)}  ${r.medianNs.toFixed(1).padStart(12)}  ${r.p99Ns.toFixed(1).padStart(10)}`);
  }
}
