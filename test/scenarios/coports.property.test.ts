/**
 * Exactly-once delivery, per coport type: several producers and consumers on one port, random
 * message counts and sizes, and a scheduler seed that replays a random interleaving. Every
 * message must arrive once, at one consumer, with its bytes intact.
 */
import { fc, testProp } from '@fast-check/ava';
import * as E from 'fp-ts/lib/Either.js';
import { corecv, cosend, openCoport, type CoportTypeName } from '@comsg/libcomsg';
import { ok, until, withKernel } from './_kernel.js';

function frame(producer: number, seq: number, size: number): Uint8Array {
  const f = new Uint8Array(8 + size);
  const v = new DataView(f.buffer);
  v.setUint32(0, producer, true);
  v.setUint32(4, seq, true);
  for (let j = 0; j < size; j++) f[8 + j] = (producer * 131 + seq * 17 + j) & 0xff;
  return f;
}

for (const type of ['COCHANNEL', 'COPIPE', 'COCARRIER'] as const satisfies readonly CoportTypeName[]) {
  testProp(
    `${type}: with several producers and consumers every message arrives exactly once, intact`,
    [fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 2 ** 30 })],
    async (t, producers, consumers, perProducer, size, seed) => {
      const total = producers * perProducer;
      const frameBytes = 8 + size;
      const seen = new Map<string, number>();
      let corrupt = 0;
      let sendErrors = 0;
      await withKernel(
        async (ctx, k) => {
          const port = ok(await openCoport(k, type, type === 'COCHANNEL' ? { capacity: frameBytes * 3 } : {}));
          let received = 0;
          let finished = 0;
          for (let c = 0; c < consumers; c++) {
            ctx.spawnThread(`consumer-${c}`, async (th) => {
              const kc = ok(k.session.on(th));
              const buf = ok(ctx.malloc(frameBytes));
              while (received < total) {
                const r = await corecv(kc, port, buf, frameBytes, { timeoutMs: 20 });
                if (E.isLeft(r)) continue;
                const got = ctx.machine.load(buf, 0, r.right);
                const v = new DataView(got.buffer);
                const p = v.getUint32(0, true);
                const s = v.getUint32(4, true);
                if (r.right !== frameBytes || got.some((b, i) => b !== frame(p, s, size)[i])) corrupt++;
                seen.set(`${p}:${s}`, (seen.get(`${p}:${s}`) ?? 0) + 1);
                received++;
              }
              finished++;
            });
          }
          for (let p = 0; p < producers; p++) {
            ctx.spawnThread(`producer-${p}`, async (th) => {
              const kp = ok(k.session.on(th));
              const buf = ok(ctx.malloc(frameBytes));
              for (let s = 0; s < perProducer; s++) {
                ctx.machine.store(buf, 0, frame(p, s, size));
                const r = await cosend(kp, port, buf, frameBytes, { timeoutMs: 10_000 });
                if (E.isLeft(r)) sendErrors++;
              }
            });
          }
          await until(ctx, () => finished === consumers, 600_000, 5);
        },
        { seed },
      );
      t.is(sendErrors, 0);
      t.is(corrupt, 0);
      t.is(seen.size, total);
      t.true([...seen.values()].every((n) => n === 1));
    },
    { numRuns: 12 },
  );
}
