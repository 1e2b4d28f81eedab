import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { fc, testProp } from '@fast-check/ava';
import { CapCause, Perm, type Capability } from '../src/index.js';
import { causeOf, setup } from './_helpers.js';

test('a byte window opens only where every load and store would be allowed', (t) => {
  const { machine, data, roots } = setup();
  const ring = machine.restrict(data, 0x100n, 64n);
  t.is(causeOf(() => machine.bytes(machine.clearTag(ring))), CapCause.TagViolation);
  t.is(causeOf(() => machine.bytes(machine.andPerm(ring, Perm.LOAD))), CapCause.PermitStoreViolation);
  t.is(causeOf(() => machine.bytes(machine.andPerm(ring, Perm.STORE))), CapCause.PermitLoadViolation);
  const key = roots.userTypes.allocate(1);
  if (E.isLeft(key)) return t.fail('otypes exhausted');
  t.is(causeOf(() => machine.bytes(machine.seal(ring, key.right))), CapCause.SealViolation);
  const w = machine.bytes(ring);
  t.is(w.length, 64);
  t.is(w.cap, ring);
  machine.revoke(ring);
  t.is(causeOf(() => machine.bytes(ring)), CapCause.TagViolation, 'a revoked capability opens nothing');
});

test('a byte window copies exactly inside itself; the other operand is checked in full each time', (t) => {
  const { machine, data } = setup();
  const ring = machine.bytes(machine.restrict(data, 0x100n, 64n));
  const buf = machine.restrict(data, 0x400n, 16n);
  t.is(causeOf(() => ring.copyIn(48, buf, 0, 16)), undefined, 'the last 16 bytes');
  t.is(causeOf(() => ring.copyIn(49, buf, 0, 16)), CapCause.LengthViolation, 'one past the end');
  t.is(causeOf(() => ring.copyOut(-1, buf, 0, 1)), CapCause.LengthViolation, 'before the start');
  t.is(causeOf(() => ring.copyOut(0.5, buf, 0, 1)), CapCause.LengthViolation, 'not a byte offset');
  t.is(causeOf(() => ring.copyIn(0, buf, 8, 16)), CapCause.LengthViolation, 'the source is too short');
  t.is(causeOf(() => ring.copyIn(0, machine.andPerm(buf, Perm.STORE), 0, 16)), CapCause.PermitLoadViolation);
  t.is(causeOf(() => ring.copyOut(0, machine.andPerm(buf, Perm.LOAD), 0, 16)), CapCause.PermitStoreViolation);
  t.is(causeOf(() => ring.copyOut(0, machine.clearTag(buf), 0, 16)), CapCause.TagViolation);
  t.is(causeOf(() => ring.copyIn(0, { ...buf } as Capability, 0, 16)), CapCause.TagViolation, 'a look-alike object is not a capability');
  machine.revoke(buf);
  t.is(causeOf(() => ring.copyIn(0, buf, 0, 16)), CapCause.TagViolation, 'a revoked source');
});

/** Offsets up to `max`, granule-aligned half the time (where a copy that kept tags would keep them). */
const offset = (max: number) => fc.oneof(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: max >>> 4 }).map((g) => g * 16));

for (const exclusive of [false, true]) {
  const memory = exclusive ? 'exclusive memory' : 'shared memory';
  testProp(
    `${memory}: byte-window copies move the same bytes and clear the same tags as a tag-stripping copy`,
    [
      fc.array(
        fc.record({ out: fc.boolean(), at: offset(255), from: offset(63), len: fc.integer({ min: 0, max: 64 }), seed: fc.integer() }),
        { minLength: 1, maxLength: 20 },
      ),
    ],
    (t, ops) => {
      // Two machines, the same history: one copies through a window, the other with copy(…, stripTags).
      const sides = [setup('v9', 1 << 16, exclusive), setup('v9', 1 << 16, exclusive)].map(({ machine, data }) => {
        const ring = machine.restrict(data, 0x200n, 256n);
        const buf = machine.restrict(data, 0x800n, 128n);
        return { machine, data, ring, buf, window: machine.bytes(ring) };
      });
      for (const { out, at, from, len, seed } of ops) {
        for (const [i, s] of sides.entries()) {
          // Fill both buffers with known bytes and a capability or two, so tags can be lost.
          const fill = new Uint8Array(128).map((_, k) => (seed + k * 7) & 0xff);
          s.machine.store(s.buf, 0, fill);
          s.machine.storeCap(s.buf, (seed & 3) * 16, s.data);
          s.machine.storeCap(s.ring, (seed & 15) * 16, s.data);
          const n = Math.min(len, 256 - at, 128 - from);
          if (i === 0) {
            if (out) s.window.copyOut(at, s.buf, from, n);
            else s.window.copyIn(at, s.buf, from, n);
          } else if (out) s.machine.copy(s.buf, from, s.ring, at, n, true);
          else s.machine.copy(s.ring, at, s.buf, from, n, true);
        }
      }
      const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
      t.deepEqual(a.machine.load(a.ring, 0, 256), b.machine.load(b.ring, 0, 256));
      t.deepEqual(a.machine.load(a.buf, 0, 128), b.machine.load(b.buf, 0, 128));
      for (let g = 0; g < 16; g++) t.is(a.machine.loadCap(a.ring, g * 16).tag, b.machine.loadCap(b.ring, g * 16).tag, `ring granule ${g}`);
      for (let g = 0; g < 8; g++) t.is(a.machine.loadCap(a.buf, g * 16).tag, b.machine.loadCap(b.buf, g * 16).tag, `buffer granule ${g}`);
    },
  );
}
