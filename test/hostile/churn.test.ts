/**
 * Churn past every generation: a port slot and a namespace slot recycled more times than
 * there are generations. Regression: ipcd's three handle types split one token space in
 * thirds, so after ~1 400 reuses of a slot coopen minted untagged handles (EDEFECT).
 */
import test from 'ava';
import { GENERATION_LIMIT, SlotTable } from '@comsg/abi';
import { coclose, codelete, coinsert, openCoport } from '@comsg/libcomsg';
import { ok, tagOf, withKernel } from '../scenarios/_kernel.js';

const REUSES = 5_000; // well past where the old split token space ran out (~1 400)

test(`a coport slot and an object slot recycled ${REUSES} times: every handle is valid, old ones stay dead`, async (t) => {
  await withKernel(async (ctx, k, _space, kernel) => {
    const buf = ok(ctx.malloc(16));
    let first;
    for (let i = 0; i < REUSES; i++) {
      const port = ok(await openCoport(k, 'COCHANNEL'));
      first ??= port;
      ok(await coclose(k, port));
    }
    t.is(tagOf(await (await import('@comsg/libcomsg')).cosend(k, first!, buf, 4)), 'EPIPE', 'the first handle is still stale');
    let firstObj;
    for (let i = 0; i < REUSES; i++) {
      const h = ok(await coinsert(k, 'churn', 'RESERVATION', undefined, k.root));
      firstObj ??= h;
      ok(await codelete(k, h, k.root));
    }
    t.is(tagOf(await codelete(k, firstObj!, k.root)), 'EINVAL');
    t.deepEqual(kernel.check(), { nsd: [], coserviced: [], coeventd: [], ipcd: [] });
  });
});

test('a slot that used every generation retires instead of wrapping around', (t) => {
  const table = new SlotTable<{ slot: number; gen: number }>(1);
  for (let i = 0; i < GENERATION_LIMIT; i++) {
    const at = table.claim()!;
    t.is(at.gen, i);
    const e = { ...at };
    table.put(e);
    table.release(e);
    if (i < 3 || i > GENERATION_LIMIT - 3) t.is(table.get(at.slot, at.gen), undefined);
  }
  t.is(table.claim(), undefined, 'the only slot is retired: the table reports full (ENOSPC), never an old generation');
});
