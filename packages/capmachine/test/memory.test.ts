import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { CapCause, CapabilityFault, Perm, PermSet, TAG_BLOCK_GRANULES, TaggedMemory, type Capability } from '../src/index.js';
import { almighty } from '../src/capability.js';
import { causeOf, setup } from './_helpers.js';


test('bytes stored through a capability load back', (t) => {
  const { machine, data } = setup();
  machine.store(data, 8, Uint8Array.from([1, 2, 3, 4, 5]));
  t.deepEqual([...machine.load(data, 8, 5)], [1, 2, 3, 4, 5]);
  machine.storeU32(data, 64, 0xdeadbeef);
  t.is(machine.loadU32(data, 64), 0xdeadbeef);
  machine.storeU64(data, 72, 0x0123456789abcdefn);
  t.is(machine.loadU64(data, 72), 0x0123456789abcdefn);
  machine.storeI32(data, 80, -5);
  t.is(machine.loadI32(data, 80), -5);
});

test('loads check tag, seal, LOAD, then bounds', (t) => {
  const { machine, data } = setup();
  t.is(causeOf(() => machine.load(machine.clearTag(data), 0, 4)), CapCause.TagViolation);
  t.is(causeOf(() => machine.load(machine.andPerm(data, Perm.STORE), 0, 4)), CapCause.PermitLoadViolation);
  t.is(causeOf(() => machine.load(data, 0x2000 - 3, 4)), CapCause.LengthViolation);
  t.is(causeOf(() => machine.load(data, -1, 1)), CapCause.LengthViolation);
  t.is(causeOf(() => machine.store(machine.andPerm(data, Perm.LOAD), 0, new Uint8Array(1))), CapCause.PermitStoreViolation);
  t.is(causeOf(() => machine.store(data, 0x2000, new Uint8Array(1))), CapCause.LengthViolation);
  // An untagged cap fails on the tag even when it is also out of bounds.
  t.is(causeOf(() => machine.load(machine.clearTag(data), 0x9999, 4)), CapCause.TagViolation);
});

test('an access beyond physical memory is an access fault, not a JS range error', (t) => {
  const { machine } = setup();
  // Only the reset capability has bounds wider than memory; it is package-internal.
  const everything = almighty();
  t.is(causeOf(() => machine.load(everything, (1 << 16) - 2, 4)), CapCause.AccessFault);
  t.is(causeOf(() => machine.store(everything, 1 << 20, new Uint8Array(1))), CapCause.AccessFault);
});

test('capability store/load round trip is bit-exact and keeps the tag', (t) => {
  const { machine, data } = setup();
  const sub = machine.restrict(data, 0x30n, 0x50n, Perm.LOAD | Perm.GLOBAL);
  machine.storeCap(data, 0x100, sub);
  const back = machine.loadCap(data, 0x100);
  t.true(back.equalsExact(sub));
  // Raw memory carries the memory form (XOR-ed pesbt) at offset 8, address at 0.
  const raw = machine.load(data, 0x100, 16);
  const view = new DataView(raw.buffer);
  t.is(view.getBigUint64(0, true), sub.address);
  t.is(view.getBigUint64(8, true), sub.memoryPesbt);
});

test('capability accesses must be 16-byte aligned', (t) => {
  const { machine, data } = setup();
  t.is(causeOf(() => machine.loadCap(data, 8)), CapCause.AddressMisaligned);
  t.is(causeOf(() => machine.storeCap(data, 4, data)), CapCause.AddressMisaligned);
});

test('a load without LOAD_CAP strips the tag silently', (t) => {
  const { machine, data } = setup();
  machine.storeCap(data, 0x200, data);
  const stripped = machine.loadCap(machine.andPerm(data, Perm.LOAD), 0x200);
  t.false(stripped.tag);
  t.is(stripped.pesbt, data.pesbt);
  t.true(machine.loadCap(data, 0x200).tag);
});

test('bytes that look like a capability never load tagged', (t) => {
  const { machine, data } = setup();
  machine.storeCap(data, 0x300, data);
  const bytes = machine.load(data, 0x300, 16);
  machine.store(data, 0x310, bytes); // a data copy of the same 16 bytes
  const forged = machine.loadCap(data, 0x310);
  t.false(forged.tag);
  t.is(forged.pesbt, data.pesbt);
});

test('repeated loads of an unchanged granule give the same capability; any change to it, its tag, the authority or the epoch gives a fresh load', (t) => {
  const { machine, data } = setup();
  const a = machine.restrict(data, 0x40n, 0x20n, Perm.LOAD | Perm.GLOBAL);
  const b = machine.restrict(data, 0x80n, 0x20n, Perm.STORE | Perm.GLOBAL);
  machine.storeCap(data, 0x400, a);
  const first = machine.loadCap(data, 0x400);
  t.is(machine.loadCap(data, 0x400), first, 'the remembered value (capabilities are immutable)');
  machine.storeCap(data, 0x400, b);
  t.true(machine.loadCap(data, 0x400).equalsExact(b), 'another capability stored there loads as itself');
  // The same 16 bytes written back as data: the words match what was loaded, the tag does not.
  machine.storeCap(data, 0x400, a);
  t.true(machine.loadCap(data, 0x400).tag);
  machine.store(data, 0x400, machine.load(data, 0x400, 16));
  const untagged = machine.loadCap(data, 0x400);
  t.false(untagged.tag, 'a data write of the same bytes cleared the tag');
  t.is(untagged.pesbt, a.pesbt);
  machine.storeCap(data, 0x400, a);
  t.true(machine.loadCap(data, 0x400).tag);
  t.false(machine.loadCap(machine.andPerm(data, Perm.LOAD), 0x400).tag, 'without LOAD_CAP the tag is stripped, remembered or not');
  t.true(machine.loadCap(data, 0x400).tag);
  // Revoking the stored capability's memory: the next load sees it dead.
  const inner = machine.restrict(data, 0x800n, 0x40n, PermSet.DATA);
  machine.storeCap(data, 0x410, inner);
  t.true(machine.loadCap(data, 0x410).tag);
  machine.revoke(inner);
  t.false(machine.loadCap(data, 0x410).tag, 'revoked since the last load');
});

test('store rules: STORE_CAP for tagged values, STORE_LOCAL_CAP for local ones', (t) => {
  const { machine, data } = setup();
  const noCap = machine.andPerm(data, Perm.STORE | Perm.LOAD | Perm.GLOBAL);
  t.is(causeOf(() => machine.storeCap(noCap, 0, data)), CapCause.PermitStoreCapabilityViolation);
  // Untagged values are plain data: STORE suffices.
  t.notThrows(() => machine.storeCap(noCap, 0, machine.clearTag(data)));
  const local = machine.andPerm(data, PermSet.DATA & ~Perm.GLOBAL);
  const noLocal = machine.andPerm(data, PermSet.DATA & ~Perm.STORE_LOCAL_CAP);
  t.is(causeOf(() => machine.storeCap(noLocal, 0, local)), CapCause.PermitStoreLocalCapabilityViolation);
  t.notThrows(() => machine.storeCap(noLocal, 0, data));
  t.notThrows(() => machine.storeCap(data, 0, local));
});

test('memcpy through capabilities preserves tags of aligned granules, or strips them', (t) => {
  const { machine, data } = setup();
  machine.storeCap(data, 0x400, data);
  machine.store(data, 0x410, Uint8Array.from([9, 9, 9]));
  machine.copy(data, 0x800, data, 0x400, 32);
  t.true(machine.loadCap(data, 0x800).tag);
  t.deepEqual([...machine.load(data, 0x810, 3)], [9, 9, 9]);
  machine.copy(data, 0x900, data, 0x400, 32, true);
  t.false(machine.loadCap(data, 0x900).tag);
  // Misaligned destination: data moves, no tag can.
  machine.copy(data, 0xa08, data, 0x400, 16);
  t.false(machine.loadCap(data, 0xa00).tag);
  t.false(machine.loadCap(data, 0xa10).tag);
  // Source without LOAD_CAP: tags stripped.
  machine.copy(data, 0xb00, machine.andPerm(data, Perm.LOAD), 0x400, 16);
  t.false(machine.loadCap(data, 0xb00).tag);
  // Destination without STORE_CAP cannot receive a tagged granule.
  const noCap = machine.andPerm(data, Perm.STORE | Perm.LOAD);
  t.is(causeOf(() => machine.copy(noCap, 0xc00, data, 0x400, 16)), CapCause.PermitStoreCapabilityViolation);
});

test('TaggedMemory can be re-attached from its shared buffers (what a worker does)', (t) => {
  const m = new TaggedMemory(4096);
  m.writeCapability(32, { tag: true, address: 5n, pesbt: 7n });
  const other = new TaggedMemory(m.buffers);
  t.true(other.tagAt(32));
  t.is(other.readCapability(32).address, 5n);
  t.deepEqual([...other.taggedGranules()], [32]);
  t.throws(() => new TaggedMemory(100), { instanceOf: RangeError });
});

testProp(
  'any data write clears exactly the tags of the granules it overlaps',
  [fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 1, max: 80 })],
  (t, start, len) => {
    const m = new TaggedMemory(2048);
    for (let g = 0; g < 2048; g += 16) m.writeCapability(g, { tag: true, address: 0n, pesbt: 0n });
    m.write(start, new Uint8Array(len));
    for (let g = 0; g < 2048; g += 16) {
      const overlaps = g < start + len && g + 16 > start;
      t.is(m.tagAt(g), !overlaps, `granule ${g}`);
    }
  },
  { numRuns: 200 },
);

testProp(
  'a long data write clears exactly the tags it overlaps, whole tag words at a time or not, and leaves the others',
  [fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 40_000 }), fc.array(fc.integer({ min: 0, max: 4095 }), { maxLength: 300 })],
  (t, start, len, tagged) => {
    const m = new TaggedMemory(1 << 16);
    const before = new Set(tagged.map((g) => g * 16));
    for (const a of before) m.writeCapability(a, { tag: true, address: 0n, pesbt: 0n });
    m.fill(start, len);
    for (let a = 0; a < 1 << 16; a += 16) {
      const overlaps = a < start + len && a + 16 > start;
      if (m.tagAt(a) !== (before.has(a) && !overlaps)) return t.fail(`granule at ${a}`);
    }
    t.pass();
  },
  { numRuns: 150 },
);

for (const exclusive of [false, true]) {
  testProp(
    `${exclusive ? 'exclusive' : 'shared'} memory: tags follow a plain model through capability stores, data writes and copies across tag blocks (the per-block summary never hides a tag)`,
    [
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('cap' as const), g: fc.integer({ min: 0, max: 3327 }) }),
          fc.record({ op: fc.constant('fill' as const), at: fc.integer({ min: 0, max: 53_000 }), len: fc.integer({ min: 1, max: 40_000 }) }),
          fc.record({ op: fc.constant('copy' as const), src: fc.integer({ min: 0, max: 3000 }), dst: fc.integer({ min: 0, max: 3000 }), granules: fc.integer({ min: 1, max: 2048 }), keep: fc.boolean(), skew: fc.constantFrom(0, 4) }),
          fc.record({ op: fc.constant('word' as const), g: fc.integer({ min: 0, max: 3327 }) }),
        ),
        { maxLength: 40 },
      ),
    ],
    (t, ops) => {
      // Three whole 16 KiB tag blocks and a partial one.
      const size = 3 * TAG_BLOCK_GRANULES * 16 + 4096;
      const granules = size / 16;
      const m = exclusive ? new TaggedMemory(size, { exclusive: true }) : new TaggedMemory(size);
      const model = new Uint8Array(granules);
      for (const o of ops) {
        if (o.op === 'cap') {
          m.writeCapability(o.g * 16, { tag: true, address: 1n, pesbt: 0n });
          model[o.g] = 1;
        } else if (o.op === 'fill') {
          const len = Math.min(o.len, size - o.at);
          m.fill(o.at, len);
          for (let g = o.at >>> 4; g <= (o.at + len - 1) >>> 4; g++) model[g] = 0;
        } else if (o.op === 'word') {
          m.storeWord((o.g * 16 + 8) >>> 2, 7);
          model[o.g] = 0;
        } else {
          const n = Math.min(o.granules, granules - Math.max(o.src, o.dst));
          const len = n * 16 - o.skew;
          m.copy(o.dst * 16, o.src * 16, len, o.keep);
          const src = model.slice(o.src, o.src + n);
          for (let i = 0; i < n; i++) model[o.dst + i] = o.keep && i * 16 + 16 <= len ? src[i]! : 0;
        }
      }
      for (let g = 0; g < granules; g++) if (m.tagAt(g * 16) !== (model[g] === 1)) return t.fail(`granule ${g}`);
      t.pass();
    },
    { numRuns: 150 },
  );
}

test('a worker attaching the buffers shares the tag summary: a tag set there is cleared by a long write here', (t) => {
  const m = new TaggedMemory(1 << 16);
  const other = new TaggedMemory(m.buffers);
  other.writeCapability(5 * 16, { tag: true, address: 0n, pesbt: 0n });
  t.true(m.tagAt(5 * 16));
  m.fill(0, 1 << 15);
  t.false(other.tagAt(5 * 16));
  t.throws(() => new TaggedMemory(m.buffers, { exclusive: true }), { instanceOf: RangeError });
});

testProp(
  'capabilities survive store/load round trips bit-exact at any aligned slot',
  [fc.integer({ min: 0, max: 0x1ff }), fc.integer({ min: 0, max: 0x1f00 }), fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0x7ffff })],
  (t, slot, off, len, perms) => {
    const { machine, data } = setup();
    const c = machine.restrict(data, BigInt(off), BigInt(len), perms);
    machine.storeCap(data, slot * 16, c);
    t.true(machine.loadCap(data, slot * 16).equalsExact(c));
  },
  { numRuns: 200 },
);

test('exhaustive: every authority perm mask × tagged/untagged × global/local value', (t) => {
  const bits = [Perm.LOAD, Perm.STORE, Perm.LOAD_CAP, Perm.STORE_CAP, Perm.STORE_LOCAL_CAP, Perm.GLOBAL];
  const { machine, data } = setup();
  let cases = 0;
  for (let m = 0; m < 1 << bits.length; m++) {
    const mask = bits.reduce((acc, b, i) => ((m >> i) & 1 ? acc | b : acc), 0);
    const auth = machine.andPerm(data, mask);
    for (const tagged of [true, false]) {
      for (const global of [true, false]) {
        let value: Capability = global ? data : machine.andPerm(data, PermSet.DATA & ~Perm.GLOBAL);
        if (!tagged) value = machine.clearTag(value);
        // Expected outcome of CSC, from spec §2.6.
        let expectStore: number | undefined;
        if (!(mask & Perm.STORE)) expectStore = CapCause.PermitStoreViolation;
        else if (tagged && !(mask & Perm.STORE_CAP)) expectStore = CapCause.PermitStoreCapabilityViolation;
        else if (tagged && !global && !(mask & Perm.STORE_LOCAL_CAP)) expectStore = CapCause.PermitStoreLocalCapabilityViolation;
        machine.storeCap(data, 0, machine.clearTag(data)); // reset slot
        t.is(causeOf(() => machine.storeCap(auth, 0, value)), expectStore, `store mask=${mask} tagged=${tagged} global=${global}`);
        if (expectStore === undefined) machine.storeCap(data, 0, value);
        // Expected outcome of CLC.
        const expectLoad = mask & Perm.LOAD ? undefined : CapCause.PermitLoadViolation;
        t.is(causeOf(() => machine.loadCap(auth, 0)), expectLoad);
        if (expectLoad === undefined) {
          const got = machine.loadCap(auth, 0);
          const storedTag = expectStore === undefined && tagged;
          t.is(got.tag, storedTag && (mask & Perm.LOAD_CAP) !== 0);
        }
        cases++;
      }
    }
  }
  t.is(cases, 256);
});

testProp(
  'copy is memmove for any overlap, alignment and length (short word-aligned moves take their own path)',
  // Word-aligned positions and lengths half the time: the short-move path needs all three.
  [aligned(600), aligned(600), aligned(400), fc.boolean()],
  (t, src, dst, length, keepTags) => {
    const memory = new TaggedMemory(2048);
    const init = Uint8Array.from({ length: 2048 }, (_, i) => (i * 7 + 3) & 0xff);
    memory.write(0, init);
    const model = init.slice();
    model.copyWithin(dst, src, src + length);
    memory.copy(dst, src, length, keepTags);
    const out = new Uint8Array(2048);
    memory.read(0, 2048, out);
    t.deepEqual([...out], [...model]);
  },
);

function aligned(max: number): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: max >> 2 }).map((x) => x * 4));
}

test('a look-alike object is no capability, even one with its own accessCheck: loads, stores, copies and windows trap', (t) => {
  const { machine: m, data } = setup();
  // Everything a real capability answers, including a check that always says "allowed".
  const fake = { tag: true, sealed: false, perms: data.perms, addressNumber: 0x1000, baseNumber: 0, topNumber: 0x10000, accessCheck: () => 0x1000, has: () => true } as unknown as Capability;
  for (const attempt of [
    () => m.loadI32(fake, 0),
    () => m.storeI32(fake, 0, 1),
    () => m.copy(data, 0, fake, 0, 16),
    () => m.copy(fake, 0, data, 0, 16),
    () => m.words(fake),
  ]) {
    t.is(causeOf(attempt), CapCause.TagViolation);
  }
});
