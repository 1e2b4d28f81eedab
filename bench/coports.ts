/**
 * Coport one-way throughput on the inline runtime: a producer co-process streams `count`
 * messages of `size` bytes through a coport to a consumer co-process, once per round with a
 * barrier between rounds; a sample is bytes / (first send → last byte received).
 */
import { AddressSpace, bootMicrokernel, type Capability, type CoProcessContext } from '@comsg/libcoproc';
import { coclose, coprocInit, cosend, openCoport, type CoportTypeName, type UkernThread } from '@comsg/libcomsg';
import { streamRecv, streamSend } from './programs/stream-ops.js';
import type { StreamSpec } from './baselines.js';
import { ok } from './microkernel.js';

const CHANNEL_MAX = 1 << 16;

/** Runs every (type, spec) pair in one booted microkernel; returns bytes/s samples per pair. */
export async function coportThroughput(cases: ReadonlyArray<{ type: CoportTypeName; spec: StreamSpec; sync?: boolean }>): Promise<number[][]> {
  const space = AddressSpace.create({ stdout: () => {}, memoryBytes: 128 << 20 });
  // A full COCARRIER queue (256 messages of 64 KiB) plus its quarantine must fit ipcd's arena.
  const kernel = bootMicrokernel(space, { ipcd: { limits: { arenaBytes: 40 << 20, maxChannelBytes: CHANNEL_MAX } } });
  ok(await kernel.ready, 'boot');
  const results: number[][] = [];
  let failure: unknown;
  for (const c of cases) {
    const samples: number[] = [];
    let port: Capability | undefined;
    let t0 = 0n;
    let roundDone = -1;
    const { type, spec } = c;
    const sync = c.sync === true;
    const total = spec.size * spec.count;
    const consumer = space.spawn({
      name: 'bench-consumer',
      main: async (ctx: CoProcessContext) => {
        try {
          const k: UkernThread = ok(await coprocInit(ctx), 'coproc_init');
          while (port === undefined) await ctx.thread.sleep(0);
          // A byte stream: drain whatever is there, up to a whole ring.
          const bufLen = type === 'COCHANNEL' ? CHANNEL_MAX : spec.size;
          const buf = ok(ctx.malloc(bufLen), 'malloc');
          for (let r = 0; r <= spec.rounds; r++) {
            let got = 0;
            while (got < total) got += ok(await streamRecv(k, port, buf, bufLen, sync), 'corecv');
            if (r > 0) samples.push((total * 1e9) / Number(process.hrtime.bigint() - t0));
            roundDone = r;
          }
        } catch (e) {
          failure = e;
        }
      },
    });
    const producer = space.spawn({
      name: 'bench-producer',
      main: async (ctx: CoProcessContext) => {
        try {
          const k = ok(await coprocInit(ctx), 'coproc_init');
          // The largest ring, as a stream would be configured (postMessage queues without bound).
          const capacity = type === 'COCHANNEL' ? CHANNEL_MAX : 0;
          port = ok(await openCoport(k, type, { capacity }), 'coopen');
          const buf = ok(ctx.malloc(spec.size), 'malloc');
          ctx.machine.store(buf, 0, new Uint8Array(spec.size).fill(5));
          for (let r = 0; r <= spec.rounds; r++) {
            while (roundDone < r - 1) await ctx.thread.sleep(0);
            t0 = process.hrtime.bigint();
            for (let i = 0; i < spec.count; i++) ok(streamSend(k, port, buf, spec.size, sync) ?? (await cosend(k, port, buf, spec.size, { timeoutMs: 30_000 })), 'cosend');
          }
          while (roundDone < spec.rounds && failure === undefined) await ctx.thread.sleep(0);
          ok(await coclose(k, port), 'coclose');
        } catch (e) {
          failure = e;
        }
      },
    });
    await space.run();
    await Promise.all([consumer.exited, producer.exited]);
    if (failure !== undefined) break;
    results.push(samples);
  }
  await space.shutdown();
  if (failure !== undefined) throw failure;
  return results;
}
