/**
 * How steady the host was while the suite ran. Every target is a ratio of cases measured side
 * by side, which cancels a machine that is slow, but not one whose speed changes between the
 * two cases of a ratio. So before each section the suite times three fixed probes on this
 * thread; the spread of each across a run bounds how far apart the conditions of two of its
 * cases may have been.
 *
 * - An ALU loop that stays in the first-level cache.
 * - The same loop while a worker spins on the other core. The threads rows keep two cores
 *   busy; on a guest whose vCPUs share a host core, or a CPU quota, each then runs slower than
 *   it does alone, and code that does real work per message (a coport send) loses that factor
 *   where a bare ring, which does almost none, does not.
 * - A walk of 16 MiB by dependent loads: on a shared host a neighbour's cache and memory
 *   traffic can slow code that touches memory (anything through the tagged memory) while
 *   leaving the ALU loop alone.
 */
import { Worker } from 'node:worker_threads';

export interface SteadinessProbe {
  /** The section the probe ran before. */
  readonly before: string;
  /** The ALU loop alone (other core idle), ms. */
  readonly aloneMs: number;
  /** The ALU loop while a worker spins on the other core, ms. */
  readonly pairedMs: number;
  /** The memory walk (WALK_STEPS dependent loads over 16 MiB), ms. */
  readonly memoryMs: number;
}

/** The fixed work: a xorshift stream folded into a small table; returns a word of it, so the work is used. */
function work(rounds: number): number {
  const table = new Int32Array(4096);
  let x = 0x9e3779b9 | 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < table.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      table[i] = (table[i]! + x) | 0;
    }
  }
  return table[rounds & 4095]!;
}

/** Rounds of `work` per probe: 25–45 ms on the 2026-12 host. */
const ROUNDS = 2_000;

/** Milliseconds for one probe; `into.sink` keeps its result. */
function timed(into: { sink: number }): number {
  const t0 = performance.now();
  into.sink ^= work(ROUNDS);
  return performance.now() - t0;
}

/** Entries of the memory walk's ring (16 MiB: past the second-level cache) and steps per probe. */
const WALK_ENTRIES = 1 << 22;
const WALK_STEPS = 300_000;

/** One cycle through every entry in a fixed pseudo-random order (Sattolo's shuffle), so each load depends on the one before. */
function walkRing(): Int32Array {
  const next = new Int32Array(WALK_ENTRIES);
  for (let i = 0; i < WALK_ENTRIES; i++) next[i] = i;
  let seed = 0x2545f491;
  for (let i = WALK_ENTRIES - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    const j = (seed >>> 1) % i;
    const t = next[i]!;
    next[i] = next[j]!;
    next[j] = t;
  }
  return next;
}

function walked(next: Int32Array, into: { sink: number }): number {
  const t0 = performance.now();
  let at = 0;
  for (let i = 0; i < WALK_STEPS; i++) at = next[at]!;
  into.sink ^= at;
  return performance.now() - t0;
}

/** The spinning partner: spins while FLAG is 1 (and says so in SPINNING), sleeps otherwise, ends at 2. */
const PARTNER = `
const { workerData } = require('node:worker_threads');
const w = new Int32Array(workerData);
for (;;) {
  const f = Atomics.load(w, 0);
  if (f === 2) break;
  if (f === 0) { Atomics.store(w, 1, 0); Atomics.wait(w, 0, 0); continue; }
  Atomics.store(w, 1, 1);
  let s = 0;
  for (let i = 0; i < 100000; i++) s = (s * 31 + i) | 0;
  if (s === 42) Atomics.store(w, 2, s);
}`;

/** Probes for one suite run; `close()` ends the partner worker. */
export class Steadiness {
  readonly probes: SteadinessProbe[] = [];
  readonly #flags = new Int32Array(new SharedArrayBuffer(16));
  readonly #partner: Worker;
  readonly #walk = walkRing();
  sink = 0;

  constructor() {
    this.#partner = new Worker(PARTNER, { eval: true, workerData: this.#flags.buffer });
    this.#partner.unref();
    // Compile the probe before the first one counts.
    for (let i = 0; i < 3; i++) {
      timed(this);
      walked(this.#walk, this);
    }
  }

  /** Time the ALU loop alone, the memory walk, then the ALU loop with the partner spinning. */
  async probe(before: string): Promise<SteadinessProbe> {
    const aloneMs = timed(this);
    const memoryMs = walked(this.#walk, this);
    const f = this.#flags;
    Atomics.store(f, 0, 1);
    Atomics.notify(f, 0);
    // Wait (without blocking the partner's start-up) until it spins.
    const until = performance.now() + 5_000;
    while (Atomics.load(f, 1) !== 1 && performance.now() < until) await new Promise((r) => setTimeout(r, 1));
    const pairedMs = timed(this);
    Atomics.store(f, 0, 0);
    const p = { before, aloneMs, pairedMs, memoryMs };
    this.probes.push(p);
    return p;
  }

  async close(): Promise<void> {
    Atomics.store(this.#flags, 0, 2);
    Atomics.notify(this.#flags, 0);
    await this.#partner.terminate();
  }
}

/** min, median and max of some timings, and max ÷ min. */
export function spread(ms: readonly number[]): { readonly min: number; readonly median: number; readonly max: number; readonly ratio: number } {
  const s = [...ms].sort((a, b) => a - b);
  const min = s[0] ?? NaN;
  const max = s.at(-1) ?? NaN;
  return { min, median: s[Math.floor(s.length / 2)] ?? NaN, max, ratio: max / min };
}

