/** Per-co-process quotas: EDQUOT for the one over quota, nothing for anyone else. */
import test from 'ava';
import { coclose, cocreate, codelete, coinsert, coprocInit, openCoport } from '@comsg/libcomsg';
import { waitExit } from '@comsg/libcoproc';
import { ok, tagOf, withKernel } from '../scenarios/_kernel.js';

test('namespaces, objects and coports each stop at the quota with EDQUOT; other co-processes are unaffected; freeing gives room back', async (t) => {
  await withKernel(
    async (ctx, k, _space, kernel) => {
      const made = [];
      for (let i = 0; i < 3; i++) made.push(ok(await cocreate(k, `q-ns-${i}`, 'PUBLIC', k.root)).ns);
      t.is(tagOf(await cocreate(k, 'q-ns-3', 'PUBLIC', k.root)), 'EDQUOT');
      // Joining an existing namespace creates nothing and is not charged.
      t.is(tagOf(await cocreate(k, 'q-ns-0', 'PUBLIC', k.root)), 'ok');
      const objs = [];
      for (let i = 0; i < 4; i++) objs.push(ok(await coinsert(k, `q-obj-${i}`, 'RESERVATION', undefined, made[0]!)));
      t.is(tagOf(await coinsert(k, 'q-obj-4', 'RESERVATION', undefined, made[0]!)), 'EDQUOT');
      const ports = [];
      for (let i = 0; i < 2; i++) ports.push(ok(await openCoport(k, i === 0 ? 'COCARRIER' : 'COPIPE')));
      t.is(tagOf(await openCoport(k, 'COCHANNEL')), 'EDQUOT');
      // Another co-process has its own quota.
      const other = ctx.coexecve({
        name: 'neighbour',
        main: async (octx) => {
          const ok2 = ok(await coprocInit(octx));
          t.is(tagOf(await cocreate(ok2, 'n-ns', 'PUBLIC', ok2.root)), 'ok');
          t.is(tagOf(await coinsert(ok2, 'n-obj', 'RESERVATION', undefined, ok2.root)), 'ok');
          t.is(tagOf(await openCoport(ok2, 'COCARRIER')), 'ok');
        },
      });
      t.is((await waitExit(ctx, other.exited)).code, 0);
      const view = kernel.inspect();
      t.deepEqual(view.nsd?.usage[ctx.pid], { namespaces: 3, objects: 4 });
      t.is(view.ipcd?.portsByPid[ctx.pid], 2);
      // Freeing makes room again.
      ok(await codelete(k, objs[0]!, made[0]!));
      t.is(tagOf(await coinsert(k, 'q-obj-4', 'RESERVATION', undefined, made[0]!)), 'ok');
      ok(await coclose(k, ports[0]!));
      t.is(tagOf(await openCoport(k, 'COCHANNEL')), 'ok', 'a closed port is released to make room');
      t.deepEqual(kernel.check(), { nsd: [], coserviced: [], coeventd: [], ipcd: [] });
    },
    { nsd: { quota: { namespaces: 3, objects: 4 } }, ipcd: { limits: { portsPerProcess: 2 } } },
  );
});
