/** The namespace invariants of spec §2.8, one property each. */
import test from 'ava';
import { fc } from '@fast-check/ava';
import * as E from 'fp-ts/lib/Either.js';
import { Perm, type Capability } from '@comsg/capmachine';
import { cocreate, codelete, coinsert, coselect, type NsTypeName, type ObjTypeName } from '../src/protocol/index.js';
import { nsdWorld, ok, tagOf, type NsdWorld } from './_harness.js';

async function withWorld<T>(body: (w: NsdWorld, local: Capability) => Promise<T>, limits?: object): Promise<T> {
  const w = await nsdWorld({ agents: 2, ...(limits === undefined ? {} : { limits }) });
  try {
    const local = await w.agents[0]!.exec((ctx) => ctx.machine.andPerm(ok(ctx.malloc(16)), Perm.LOAD));
    return await body(w, local);
  } finally {
    await w.close();
  }
}

const objTypes: ObjTypeName[] = ['RESERVATION', 'COMMAP', 'COPORT', 'COSERVICE'];
const arbName = fc.stringMatching(/^[A-Za-z0-9._-]{1,91}$/);

test('§2.8.4: joining a joinable namespace yields the same namespace', async (t) => {
  await fc.assert(
    fc.asyncProperty(arbName, fc.constantFrom<NsTypeName>('APPLICATION', 'PUBLIC', 'LIBRARY'), arbName, async (nsName, type, objName) =>
      withWorld(async (w, local) => {
        const [a, b] = w.agents as [NsdWorld['agents'][0], NsdWorld['agents'][0]];
        const first = ok(await a.call(cocreate, { name: nsName as never, type, parent: w.nsd.root }));
        const second = ok(await b.call(cocreate, { name: nsName as never, type, parent: w.nsd.root }));
        ok(await b.call(coinsert, { name: objName as never, type: 'COPORT', obj: local, ns: second.ns }));
        const seen = ok(await a.call(coselect, { name: objName as never, type: 'COPORT', ns: first.ns }));
        return first.created === 1 && second.created === 0 && seen.obj!.equalsExact(local);
      }),
    ),
    { numRuns: 40 },
  );
  t.pass();
});

test('§2.8.8/13: insert → select finds it (only under its type), re-insert is EEXIST; delete frees the name', async (t) => {
  await fc.assert(
    fc.asyncProperty(arbName, fc.constantFrom(...objTypes), fc.constantFrom(...objTypes), async (name, type, other) =>
      withWorld(async (w, local) => {
        const a = w.agents[0]!;
        const obj = type === 'RESERVATION' ? undefined : local;
        const ins = ok(await a.call(coinsert, { name: name as never, type, obj, ns: w.nsd.root }));
        const sel = ok(await a.call(coselect, { name: name as never, type, ns: w.nsd.root }));
        const storedOk = obj === undefined ? sel.obj === undefined : sel.obj!.equalsExact(obj);
        const otherTag = tagOf(await a.call(coselect, { name: name as never, type: other, ns: w.nsd.root }));
        const again = tagOf(await a.call(coinsert, { name: name as never, type: 'RESERVATION', obj: undefined, ns: w.nsd.root }));
        ok(await a.call(codelete, { nsobj: ins.nsobj, ns: w.nsd.root }));
        const gone = tagOf(await a.call(coselect, { name: name as never, type, ns: w.nsd.root }));
        const staleIns = tagOf(await a.call(codelete, { nsobj: ins.nsobj, ns: w.nsd.root }));
        const staleSel = tagOf(await a.call(codelete, { nsobj: sel.nsobj, ns: w.nsd.root }));
        const reuse = tagOf(await a.call(coinsert, { name: name as never, type, obj, ns: w.nsd.root }));
        return storedOk && otherTag === (other === type ? 'ok' : 'ENOENT') && again === 'EEXIST' && gone === 'ENOENT' && staleIns === 'EINVAL' && staleSel === 'EINVAL' && reuse === 'ok';
      }),
    ),
    { numRuns: 40 },
  );
  t.pass();
});

test('§2.8.13: stale handles stay invalid however often their slot is recycled', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 30 }), async (cycles) =>
      withWorld(
        async (w) => {
          const a = w.agents[0]!;
          const stale: Capability[] = [];
          for (let i = 0; i < cycles; i++) {
            const h = ok(await a.call(coinsert, { name: `n${i % 2}` as never, type: 'RESERVATION', obj: undefined, ns: w.nsd.root }));
            ok(await a.call(codelete, { nsobj: h.nsobj, ns: w.nsd.root }));
            stale.push(h.nsobj);
          }
          // One live object now occupies the recycled slot.
          ok(await a.call(coinsert, { name: 'live' as never, type: 'RESERVATION', obj: undefined, ns: w.nsd.root }));
          for (const h of stale) if (tagOf(await a.call(codelete, { nsobj: h, ns: w.nsd.root })) !== 'EINVAL') return false;
          return w.nsd.table.counts.objects === 1 && w.nsd.table.check().length === 0;
        },
        { objects: 1 },
      ),
    ),
    { numRuns: 20 },
  );
  t.pass();
});

test('§2.8.15: error precedence is EINVAL, then EACCES, then state errors', async (t) => {
  // Three independent faults; the reply must name the first in precedence order.
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.boolean(), fc.boolean(), async (badNs, noRights, taken) =>
      withWorld(async (w) => {
        const a = w.agents[0]!;
        const owned = ok(await a.call(cocreate, { name: 'owned' as never, type: 'PUBLIC', parent: w.nsd.root }));
        const joined = ok(await a.call(cocreate, { name: 'owned' as never, type: 'PUBLIC', parent: w.nsd.root }));
        const inOwned = ok(await a.call(coinsert, { name: 'x' as never, type: 'COMMAP', obj: await a.exec((c) => c.machine.andPerm(ok(c.malloc(16)), Perm.LOAD)), ns: owned.ns }));
        // A handle without D (selected through the joiner's WR handle) — the "no rights" fault.
        const weak = ok(await a.call(coselect, { name: 'x' as never, type: 'COMMAP', ns: joined.ns }));
        const target = noRights ? weak.nsobj : inOwned.nsobj;
        // "taken": the object is not in the namespace we name (state error ENOENT).
        const ns = badNs ? await a.exec((c) => c.machine.clearTag(owned.ns)) : taken ? w.nsd.root : owned.ns;
        const got = tagOf(await a.call(codelete, { nsobj: target, ns }));
        const expected = badNs ? 'EINVAL' : noRights ? 'EACCES' : taken ? 'ENOENT' : 'ok';
        return got === expected;
      }),
    ),
    { numRuns: 24 },
  );
  t.pass();
});

test('§2.8.16: a name is accepted exactly when it matches [A-Za-z0-9._-]{1,91}', async (t) => {
  await withWorld(async (w) => {
    const a = w.agents[0]!;
    await fc.assert(
      fc.asyncProperty(fc.oneof(arbName, fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 95 })), async (name) => {
        const valid = /^[A-Za-z0-9._-]{1,91}$/.test(name);
        const r = await a.call(coinsert, { name: name as never, type: 'RESERVATION', obj: undefined, ns: w.nsd.root });
        if (E.isRight(r)) ok(await a.call(codelete, { nsobj: r.right.nsobj, ns: w.nsd.root }));
        const tag = tagOf(r);
        return valid ? tag === 'ok' : tag === 'EINVAL';
      }),
      { numRuns: 300 },
    );
    t.is(w.nsd.table.counts.objects, 0);
  });
});

test('§2.8.9/14: lookups never cross namespaces, and deletion is only through the right one', async (t) => {
  await withWorld(async (w, local) => {
    const a = w.agents[0]!;
    const child = ok(await a.call(cocreate, { name: 'child' as never, type: 'PUBLIC', parent: w.nsd.root }));
    const other = ok(await a.call(cocreate, { name: 'other' as never, type: 'PUBLIC', parent: w.nsd.root }));
    const inChild = ok(await a.call(coinsert, { name: 'x' as never, type: 'COPORT', obj: local, ns: child.ns }));
    t.is(tagOf(await a.call(coselect, { name: 'x' as never, type: 'COPORT', ns: w.nsd.root })), 'ENOENT');
    t.is(tagOf(await a.call(coselect, { name: 'child' as never, type: 'RESERVATION', ns: w.nsd.root })), 'ENOENT');
    t.is(tagOf(await a.call(codelete, { nsobj: inChild.nsobj, ns: other.ns })), 'ENOENT');
    ok(await a.call(coinsert, { name: 'x' as never, type: 'COPORT', obj: local, ns: other.ns }));
    t.is(tagOf(await a.call(codelete, { nsobj: inChild.nsobj, ns: other.ns })), 'EPERM');
    t.is(tagOf(await a.call(codelete, { nsobj: inChild.nsobj, ns: child.ns })), 'ok');
  });
});
