import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { CapCause, Perm, PermSet, Quarantine } from '../src/index.js';
import { causeOf, setup } from './_helpers.js';

/** An allocator's view: `arena` is the container, `msg` one allocation inside it. */
function arena() {
  const s = setup();
  const { machine, data } = s;
  const msg = machine.restrict(data, 0x100n, 0x40n, PermSet.DATA);
  return { ...s, msg, m: machine };
}

test('a revoked register capability faults on every access and derives only untagged values', (t) => {
  const { m, msg, data } = arena();
  const view = m.andPerm(msg, Perm.LOAD | Perm.GLOBAL);
  const inner = m.restrict(view, 0x10n, 0x10n, Perm.LOAD | Perm.GLOBAL);
  m.store(msg, 0, Uint8Array.of(7));
  t.is(m.load(view, 0, 1)[0], 7);
  m.revoke(msg);
  t.is(causeOf(() => m.load(view, 0, 1)), CapCause.TagViolation);
  t.is(causeOf(() => m.load(inner, 0, 1)), CapCause.TagViolation, 'a child derived before revocation dies too');
  t.is(causeOf(() => m.store(msg, 0, Uint8Array.of(1))), CapCause.TagViolation, 'the region capability itself is revoked');
  t.false(m.isLive(view));
  t.false(m.setBounds(view, 8n).tag, 'derivation from revoked authority is untagged');
  // The allocator's container (base outside the freed region) still works.
  t.is(m.load(data, 0x100, 1)[0], 7);
});

test('freed memory can be handed out again: new allocations work, old capabilities stay dead', (t) => {
  const { m, msg, data } = arena();
  const stale = m.andPerm(msg, Perm.LOAD);
  m.revoke(msg);
  const again = m.restrict(data, 0x100n, 0x40n, PermSet.DATA);
  m.store(again, 0, Uint8Array.of(42));
  t.is(m.load(again, 0, 1)[0], 42);
  t.is(causeOf(() => m.load(stale, 0, 1)), CapCause.TagViolation);
  // Revoked again: both generations are dead.
  m.revoke(again);
  t.false(m.isLive(again));
  t.false(m.isLive(stale));
});

test('stored capabilities into the region are swept; others keep their tags', (t) => {
  const { m, msg, data } = arena();
  const other = m.restrict(data, 0x800n, 0x40n, PermSet.DATA);
  m.storeCap(data, 0x400, msg);
  m.storeCap(data, 0x410, m.andPerm(msg, Perm.LOAD));
  m.storeCap(data, 0x420, other);
  t.is(m.revoke(msg), 2);
  t.false(m.loadCap(data, 0x400).tag);
  t.false(m.loadCap(data, 0x410).tag);
  const kept = m.loadCap(data, 0x420);
  t.true(kept.tag);
  m.store(kept, 0, Uint8Array.of(1));
  t.pass();
});

test('storing a revoked register value writes it untagged (no laundering)', (t) => {
  const { m, msg, data } = arena();
  const view = m.andPerm(msg, Perm.LOAD | Perm.GLOBAL);
  m.revoke(msg);
  m.storeCap(data, 0x400, view);
  t.false(m.loadCap(data, 0x400).tag);
});

test('copies through a revoked source or destination fault', (t) => {
  const { m, msg, data } = arena();
  const src = m.restrict(data, 0x200n, 0x40n, PermSet.DATA);
  const keep = m.andPerm(msg, PermSet.DATA);
  m.revoke(msg);
  t.is(causeOf(() => m.copy(keep, 0, src, 0, 16)), CapCause.TagViolation);
  t.is(causeOf(() => m.copy(src, 0, keep, 0, 16)), CapCause.TagViolation);
});

test('revoke needs STORE over an aligned, live region', (t) => {
  const { m, msg } = arena();
  t.is(causeOf(() => m.revoke(m.andPerm(msg, Perm.LOAD))), CapCause.PermitStoreViolation);
  t.is(causeOf(() => m.revoke(m.restrict(msg, 1n, 16n))), CapCause.UnalignedBase);
  m.revoke(msg);
  t.is(causeOf(() => m.revoke(msg)), CapCause.TagViolation);
});

testProp(
  'after any sequence of frees and reallocations, exactly the capabilities of freed allocations are dead',
  [fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.boolean()), { maxLength: 40 })],
  (t, script) => {
    const { machine: m, data } = setup();
    // 16 slots of 64 bytes; each slot may hold one allocation at a time.
    const live = new Map<number, ReturnType<typeof m.restrict>>();
    const dead: Array<ReturnType<typeof m.restrict>> = [];
    for (const [slot, free] of script) {
      const cur = live.get(slot);
      if (free && cur !== undefined) {
        m.revoke(cur);
        dead.push(cur);
        live.delete(slot);
      } else if (cur === undefined) {
        live.set(slot, m.restrict(data, BigInt(0x100 + slot * 64), 64n, PermSet.DATA));
      }
    }
    for (const c of live.values()) t.true(m.isLive(c));
    for (const c of dead) t.false(m.isLive(c));
    t.true(m.isLive(data));
  },
);

test('quarantine: registers and stored copies die at once (memory tags at the batched sweep), and nothing is reused before it', (t) => {
  const { m, data } = arena();
  const q = new Quarantine(m, 0x80);
  const a = m.restrict(data, 0x100n, 0x40n, PermSet.DATA);
  const b = m.restrict(data, 0x200n, 0x40n, PermSet.DATA);
  const held = m.restrict(data, 0x800n, 0x40n, PermSet.DATA);
  m.storeCap(held, 0, m.andPerm(a, Perm.LOAD));
  m.storeCap(held, 16, m.andPerm(b, Perm.LOAD));
  const released: string[] = [];
  q.add(a, () => released.push('a'));
  t.false(m.isLive(a), 'a register copy is revoked immediately');
  t.is(causeOf(() => m.load(a, 0, 1)), CapCause.TagViolation);
  t.deepEqual(released, [], 'held, not reusable yet');
  // Its stored copy keeps its tag in memory until the sweep, but loading it before then gives
  // a dead capability: a load must not revive what is waiting to be swept.
  t.false(m.loadCap(held, 0).tag, 'a stored copy loaded before the sweep is dead too');
  t.true(m.loadCap(held, 16).tag, 'a stored copy of a region not revoked is untouched');
  t.is(q.bytes, 0x40);
  q.add(b, () => released.push('b')); // reaches the 0x80 limit: one sweep for both
  t.deepEqual(released, ['a', 'b']);
  t.is(q.sweeps, 1);
  t.is(q.bytes, 0);
  t.false(m.loadCap(held, 0).tag);
  t.false(m.loadCap(held, 16).tag);
  // Reused after the sweep: the new owner's capability works, no old one does.
  const again = m.restrict(data, 0x100n, 0x40n, PermSet.DATA);
  m.store(again, 0, Uint8Array.of(9));
  t.is(m.load(again, 0, 1)[0], 9);
  t.false(m.isLive(a));
  t.is(q.flush(), 0, 'an empty flush sweeps nothing');
});
