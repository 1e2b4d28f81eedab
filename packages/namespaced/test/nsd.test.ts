import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { Perm } from '@comsg/capmachine';
import { cocreate, codelete, codrop, coinsert, coselect, coupdate, ObjRight } from '../src/protocol/index.js';
import { nsdWorld, ok, tagOf } from './_harness.js';

test('root is "coproc", handed out with WR; create, join, select, update, delete end to end', async (t) => {
  const w = await nsdWorld();
  const [a, b] = w.agents as [typeof w.agents[0], typeof w.agents[0]];
  const root = w.nsd.root;
  t.true(root.sealed);
  const app = ok(await a.call(cocreate, { name: 'app' as never, type: 'APPLICATION', parent: root }));
  t.is(app.created, 1);
  const joined = ok(await b.call(cocreate, { name: 'app' as never, type: 'APPLICATION', parent: root }));
  t.is(joined.created, 0);
  // Owner handle has RO|WR, joiner only WR.
  t.is(w.nsd.table.openNs(app.ns)!.perms & (Perm.SW2 | Perm.SW3), Perm.SW2 | Perm.SW3);
  t.is(w.nsd.table.openNs(joined.ns)!.perms & (Perm.SW2 | Perm.SW3), Perm.SW3);
  // A reservation inserted through the joiner's handle is visible through the owner's.
  const res = ok(await b.call(coinsert, { name: 'svc' as never, type: 'RESERVATION', obj: undefined, ns: joined.ns }));
  const sel = ok(await a.call(coselect, { name: 'svc' as never, type: 'RESERVATION', ns: app.ns }));
  t.true(sel.nsobj.sealed);
  t.is(sel.obj, undefined);
  // Selected handles never carry W: only the inserter can fill the reservation.
  const port = await a.exec((ctx) => ctx.machine.andPerm(ok(ctx.malloc(16)), Perm.LOAD | Perm.STORE));
  t.is(tagOf(await a.call(coupdate, { nsobj: sel.nsobj, type: 'COPORT', obj: port })), 'EPERM');
  const filled = ok(await b.call(coupdate, { nsobj: res.nsobj, type: 'COPORT', obj: port }));
  t.is(tagOf(await b.call(coupdate, { nsobj: res.nsobj, type: 'COPORT', obj: port })), 'ENODEV');
  const found = ok(await a.call(coselect, { name: 'svc' as never, type: 'COPORT', ns: app.ns }));
  t.true(found.obj!.equalsExact(port));
  t.is(tagOf(await a.call(coselect, { name: 'svc' as never, type: 'RESERVATION', ns: app.ns })), 'ENOENT');
  // D: the owner's select carries it, the joiner's does not; delete needs WR on ns too.
  t.true((w.nsd.table.openObj(found.nsobj)!.perms & ObjRight.D) !== 0);
  const joinerView = ok(await b.call(coselect, { name: 'svc' as never, type: 'COPORT', ns: joined.ns }));
  t.is(tagOf(await b.call(codelete, { nsobj: joinerView.nsobj, ns: joined.ns })), 'EACCES');
  ok(await b.call(codelete, { nsobj: filled.nsobj, ns: joined.ns }));
  t.is(tagOf(await a.call(coselect, { name: 'svc' as never, type: 'COPORT', ns: app.ns })), 'ENOENT');
  // Every handle to the deleted object is now invalid, even after its slot is reused.
  ok(await a.call(coinsert, { name: 'other' as never, type: 'RESERVATION', obj: undefined, ns: app.ns }));
  t.is(tagOf(await a.call(codelete, { nsobj: found.nsobj, ns: app.ns })), 'EINVAL');
  t.deepEqual(w.nsd.table.check(), []);
  await w.close();
});

test('codrop: owner only, empty unless recursive, invalidates every handle below', async (t) => {
  const w = await nsdWorld();
  const a = w.agents[0]!;
  const root = w.nsd.root;
  const pub = ok(await a.call(cocreate, { name: 'pub' as never, type: 'PUBLIC', parent: root }));
  const inner = ok(await a.call(cocreate, { name: 'inner' as never, type: 'PRIVATE', parent: pub.ns }));
  const obj = ok(await a.call(coinsert, { name: 'x' as never, type: 'RESERVATION', obj: undefined, ns: inner.ns }));
  const joiner = ok(await a.call(cocreate, { name: 'pub' as never, type: 'PUBLIC', parent: root }));
  t.is(tagOf(await a.call(codrop, { ns: joiner.ns, parent: root, recursive: 1 })), 'EACCES');
  t.is(tagOf(await a.call(codrop, { ns: pub.ns, parent: root, recursive: 0 })), 'ENOTEMPTY');
  t.is(tagOf(await a.call(codrop, { ns: inner.ns, parent: root, recursive: 1 })), 'ENOENT');
  t.is(tagOf(await a.call(codrop, { ns: root, parent: root, recursive: 1 })), 'EINVAL');
  t.is(ok(await a.call(codrop, { ns: pub.ns, parent: root, recursive: 1 })).removed, 3);
  for (const h of [pub.ns, inner.ns, joiner.ns]) t.is(tagOf(await a.call(coselect, { name: 'x' as never, type: 'RESERVATION', ns: h })), 'EINVAL');
  t.is(tagOf(await a.call(codelete, { nsobj: obj.nsobj, ns: root })), 'EINVAL');
  // The name is free again.
  t.is(ok(await a.call(cocreate, { name: 'pub' as never, type: 'PUBLIC', parent: root })).created, 1);
  t.deepEqual(w.nsd.table.check(), []);
  await w.close();
});

test('the comsg crash inputs are plain errors here (spec §8 items 1, 2, 3b, 5, 13)', async (t) => {
  const w = await nsdWorld({ limits: { namespaces: 3, objects: 2 } });
  const a = w.agents[0]!;
  const root = w.nsd.root;
  // 1: empty or invalid-character names.
  t.is(tagOf(await a.call(coinsert, { name: '' as never, type: 'RESERVATION', obj: undefined, ns: root })), 'EINVAL');
  t.is(tagOf(await a.call(coinsert, { name: 'a/b' as never, type: 'RESERVATION', obj: undefined, ns: root })), 'EINVAL');
  t.is(tagOf(await a.call(coinsert, { name: 'x'.repeat(92) as never, type: 'RESERVATION', obj: undefined, ns: root })), 'EINVAL');
  // 2: codrop with the root as parent of something that is not its child.
  t.is(tagOf(await a.call(codrop, { ns: root, parent: root, recursive: 0 })), 'EINVAL');
  // 3b: an untagged copy of a namespace handle.
  const untagged = await a.exec((ctx) => ctx.machine.clearTag(root));
  t.is(tagOf(await a.call(coselect, { name: 'x' as never, type: 'COPORT', ns: untagged })), 'EINVAL');
  // A handle of the wrong kind (object handle where a namespace handle goes).
  const r = ok(await a.call(coinsert, { name: 'r' as never, type: 'RESERVATION', obj: undefined, ns: root }));
  t.is(tagOf(await a.call(coselect, { name: 'x' as never, type: 'COPORT', ns: r.nsobj })), 'EINVAL');
  // 13: illegal placement is EINVAL, not a NULL success.
  const priv = ok(await a.call(cocreate, { name: 'p' as never, type: 'PRIVATE', parent: root }));
  t.is(tagOf(await a.call(cocreate, { name: 'q' as never, type: 'APPLICATION', parent: priv.ns })), 'EINVAL');
  t.is(tagOf(await a.call(cocreate, { name: 'q' as never, type: 'ROOT', parent: root })), 'EINVAL');
  // 5: exhaustion is ENOSPC and leaves no trace.
  ok(await a.call(cocreate, { name: 'n2' as never, type: 'PUBLIC', parent: root }));
  t.is(tagOf(await a.call(cocreate, { name: 'n3' as never, type: 'PUBLIC', parent: root })), 'ENOSPC');
  ok(await a.call(coinsert, { name: 'o2' as never, type: 'RESERVATION', obj: undefined, ns: root }));
  t.is(tagOf(await a.call(coinsert, { name: 'o3' as never, type: 'RESERVATION', obj: undefined, ns: root })), 'ENOSPC');
  t.deepEqual(w.nsd.table.check(), []);
  t.is(w.nsd.pool.stats.defects, 0);
  await w.close();
});

test('a global capability cannot be inserted; coinsert arguments must agree with the type', async (t) => {
  const w = await nsdWorld();
  const a = w.agents[0]!;
  const glob = await a.exec((ctx) => ok(ctx.malloc(16)));
  const local = await a.exec((ctx) => ctx.machine.andPerm(glob, Perm.LOAD));
  t.is(tagOf(await a.call(coinsert, { name: 'g' as never, type: 'COPORT', obj: glob, ns: w.nsd.root })), 'EINVAL');
  t.is(tagOf(await a.call(coinsert, { name: 'g' as never, type: 'COPORT', obj: undefined, ns: w.nsd.root })), 'EINVAL');
  t.is(tagOf(await a.call(coinsert, { name: 'g' as never, type: 'RESERVATION', obj: local, ns: w.nsd.root })), 'EINVAL');
  t.true(E.isRight(await a.call(coinsert, { name: 'g' as never, type: 'COPORT', obj: local, ns: w.nsd.root })));
  await w.close();
});
