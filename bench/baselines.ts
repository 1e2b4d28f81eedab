/**
 * One-way stream baselines the coports are measured against, each for a message size: a
 * worker posting to the main thread (structured clone, and ArrayBuffer transfer), a second
 * process writing to a Unix-domain socket, a raw SharedArrayBuffer ring between two workers,
 * and the copy ceiling (Uint8Array.set in a loop).
 * Each returns one sample per round, in bytes per second.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const peer = new URL('./peers/stream-peer.mjs', import.meta.url);
const ringPeer = new URL('./peers/ring-peer.mjs', import.meta.url);

/**
 * A byte ring in a SharedArrayBuffer between a producer and a consumer worker, both spinning,
 * END and START published with Atomics.store (see peers/ring-peer.mjs): the floor under a
 * threads COCHANNEL stream of the same shape (ring of `capacity` bytes, consumer draining
 * whatever is there).
 */
export async function sabRingStream(spec: StreamSpec, capacity = 1 << 16): Promise<number[]> {
  const sab = new SharedArrayBuffer(capacity + 512);
  const data = { sab, size: spec.size, count: spec.count, capacity };
  const producer = new Worker(ringPeer, { workerData: { ...data, role: 'producer' } });
  const consumer = new Worker(ringPeer, { workerData: { ...data, role: 'consumer' } });
  const samples: number[] = [];
  try {
    const round = () =>
      settledOnError<number>([producer, consumer], (resolve) => {
        consumer.once('message', (ns: number) => resolve((spec.size * spec.count * 1e9) / ns));
        consumer.postMessage('go');
        producer.postMessage('go');
      });
    await round(); // warm-up
    for (let r = 0; r < spec.rounds; r++) samples.push(await round());
  } finally {
    await Promise.all([producer.terminate(), consumer.terminate()]);
  }
  return samples;
}

/**
 * One round with `workers`: a worker's error rejects it (a crashed peer must not hang the
 * suite), and the error listeners go when it settles, so rounds do not pile them up.
 */
function settledOnError<T>(workers: readonly Worker[], start: (resolve: (v: T) => void, reject: (e: unknown) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (e: unknown) => done(() => reject(e));
    const done = (settle: () => void) => {
      for (const w of workers) w.off('error', fail);
      settle();
    };
    for (const w of workers) w.on('error', fail);
    start((v) => done(() => resolve(v)), fail);
  });
}

export interface StreamSpec {
  readonly size: number;
  readonly count: number;
  readonly rounds: number;
}

/** postMessage from a worker: 'clone' copies each message, 'transfer' moves a fresh buffer. */
export async function postMessageStream(mode: 'clone' | 'transfer', spec: StreamSpec): Promise<number[]> {
  const w = new Worker(peer, { workerData: { mode } });
  const samples: number[] = [];
  try {
    const round = () =>
      settledOnError<number>([w], (resolve, reject) => {
        let bytes = 0;
        const t0 = process.hrtime.bigint();
        const on = (m: unknown) => {
          if (m instanceof Uint8Array) bytes += m.byteLength;
          else if (m instanceof ArrayBuffer) bytes += m.byteLength;
          else if ((m as { done?: boolean }).done === true) {
            w.off('message', on);
            if (bytes !== spec.size * spec.count) return reject(new Error(`postMessage ${mode}: ${bytes} bytes arrived, ${spec.size * spec.count} sent`));
            resolve((bytes * 1e9) / Number(process.hrtime.bigint() - t0));
          }
        };
        w.on('message', on);
        w.postMessage({ count: spec.count, size: spec.size });
      });
    await round(); // warm-up
    for (let r = 0; r < spec.rounds; r++) samples.push(await round());
  } finally {
    await w.terminate();
  }
  return samples;
}

/** A child process writing to a Unix-domain socket that this process reads. */
export async function unixSocketStream(spec: StreamSpec): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'comsg-bench-'));
  const path = join(dir, 'stream.sock');
  const samples: number[] = [];
  const total = spec.size * spec.count;
  try {
    await new Promise<void>((resolve, reject) => {
      const server = net.createServer((sock) => {
        let got = 0;
        let t0 = process.hrtime.bigint();
        let round = 0;
        sock.on('data', (chunk) => {
          got += chunk.length;
          if (got < total) return;
          if (got > total) return reject(new Error('unix socket: more bytes than sent'));
          // Round 0 is the warm-up.
          if (round > 0) samples.push((total * 1e9) / Number(process.hrtime.bigint() - t0));
          round++;
          got = 0;
          t0 = process.hrtime.bigint();
          sock.write('k');
        });
        sock.on('end', () => {
          server.close();
          resolve();
        });
        sock.on('error', reject);
      });
      server.listen(path, () => {
        const child = fork(peer, [path, String(spec.count), String(spec.size), String(spec.rounds + 1)], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', (code) => code !== 0 && reject(new Error(`unix socket writer exited ${code}`)));
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}

let sink = 0;
/** memcpy bandwidth in this process: the ceiling for anything that copies each byte once. */
export function copyCeiling(spec: StreamSpec): number[] {
  const src = new Uint8Array(spec.size).fill(3);
  const dst = new Uint8Array(new SharedArrayBuffer(spec.size * 4));
  const samples: number[] = [];
  for (let r = 0; r <= spec.rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < spec.count; i++) dst.set(src, (i & 3) * spec.size);
    sink ^= dst[0]!;
    if (r > 0) samples.push((spec.size * spec.count * 1e9) / Number(process.hrtime.bigint() - t0));
  }
  return samples;
}
