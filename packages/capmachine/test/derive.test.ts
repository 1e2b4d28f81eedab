import test from 'ava';
import { CapCause, CapabilityFault, Perm, PermSet, type Capability } from '../src/index.js';
import { setup } from './_helpers.js';

function fault(t: { throws: (f: () => unknown, o: object) => unknown }, f: () => unknown, code: number): void {
  const e = t.throws(f, { instanceOf: CapabilityFault }) as CapabilityFault;
  if (e.code !== code) throw new Error(`expected cause 0x${code.toString(16)}, got ${e.message}`);
}

test('setAddress keeps the tag while representable and clears it far outside', (t) => {
  const { machine, data } = setup();
  const inside = machine.setAddress(data, 0x2000n);
  t.true(inside.tag);
  t.is(inside.address, 0x2000n);
  // One past the top is still representable for a small exact cap.
  t.true(machine.setAddress(data, 0x3000n).tag);
  const far = machine.setAddress(data, 0x1_0000_0000n);
  t.false(far.tag);
  t.is(far.address, 0x1_0000_0000n);
});

test('incOffset and setOffset move the address relative to address and base', (t) => {
  const { machine, data } = setup();
  const a = machine.incOffset(data, 0x10n);
  t.is(a.address, 0x1010n);
  t.true(a.tag);
  const b = machine.setOffset(a, 0x40n);
  t.is(b.address, 0x1040n);
  t.is(b.offset, 0x40n);
  t.false(machine.incOffset(data, 1n << 40n).tag);
  t.is(machine.incOffset(data, -0x1000n).address, 0n);
});

test('setBounds narrows, rounds outwards, and clears the tag when asking for more', (t) => {
  const { machine, data } = setup();
  const n = machine.setBounds(machine.setAddress(data, 0x1100n), 0x80n);
  t.true(n.tag);
  t.is(n.base, 0x1100n);
  t.is(n.top, 0x1180n);
  const wider = machine.setBounds(data, 0x2001n);
  t.false(wider.tag);
  const below = machine.setBounds(machine.setAddress(data, 0xff0n), 0x20n);
  t.false(below.tag);
});

test('setBoundsExact clears the tag when rounding would be needed', (t) => {
  const { machine, roots } = setup('v9', 1 << 20);
  const at = machine.setAddress(roots.memory, 0x1001n);
  t.false(machine.setBoundsExact(at, 0x1000n).tag);
  t.true(machine.setBounds(at, 0x1000n).tag);
  t.true(machine.setBoundsExact(machine.setAddress(roots.memory, 0x1000n), 0x1000n).tag);
});

test('andPerm only removes permissions', (t) => {
  const { machine, data } = setup();
  const ro = machine.andPerm(data, Perm.LOAD | Perm.SEAL);
  t.is(ro.perms, Perm.LOAD); // SEAL was never there
  t.true(ro.tag);
  const back = machine.andPerm(ro, PermSet.DATA);
  t.is(back.perms, Perm.LOAD);
});

test('clearTag keeps the bits and drops authority', (t) => {
  const { machine, data } = setup();
  const c = machine.clearTag(data);
  t.false(c.tag);
  t.is(c.pesbt, data.pesbt);
  t.is(c.address, data.address);
});

test('setFlags changes only the flag bit', (t) => {
  const { machine, data } = setup();
  const f = machine.setFlags(data, 1);
  t.is(f.flags, 1);
  t.is(f.base, data.base);
  t.is(machine.setFlags(f, 0).pesbt, data.pesbt);
});

test('ISAv9: manipulating a sealed capability yields an untagged result', (t) => {
  const { machine, data, roots } = setup();
  const sealer = (roots.userTypes.allocate() as { right: Capability }).right;
  const sealed = machine.seal(data, sealer);
  t.true(sealed.tag);
  for (const r of [
    machine.setAddress(sealed, 0x1010n),
    machine.incOffset(sealed, 1n),
    machine.setBounds(sealed, 0x10n),
    machine.andPerm(sealed, Perm.LOAD),
    machine.setFlags(sealed, 1),
  ]) {
    t.false(r.tag);
  }
});

test('strict mode traps with the ISAv8 cause codes', (t) => {
  const { machine, data, roots } = setup('strict');
  const sealer = (roots.userTypes.allocate() as { right: Capability }).right;
  const sealed = machine.seal(data, sealer);
  fault(t, () => machine.setAddress(sealed, 0n), CapCause.SealViolation);
  fault(t, () => machine.incOffset(sealed, 1n), CapCause.SealViolation);
  fault(t, () => machine.andPerm(machine.clearTag(data), 0), CapCause.TagViolation);
  fault(t, () => machine.setBounds(machine.clearTag(data), 1n), CapCause.TagViolation);
  fault(t, () => machine.setBounds(sealed, 1n), CapCause.SealViolation);
  fault(t, () => machine.setBounds(data, 0x4000n), CapCause.LengthViolation);
  const big = machine.setAddress(roots.memory, 0x1001n);
  fault(t, () => machine.setBoundsExact(big, 0x1000n), CapCause.InexactBounds);
  // An unrepresentable move still only clears the tag (no trap in either generation).
  t.false(machine.setAddress(data, 1n << 40n).tag);
});

test('a forged look-alike object is a tag violation, not a crash', (t) => {
  const { machine, data } = setup();
  const forged = Object.create(Object.getPrototypeOf(data) as object) as Capability;
  fault(t, () => machine.setBounds(forged, 16n), CapCause.TagViolation);
  fault(t, () => machine.load(forged, 0, 16), CapCause.TagViolation);
  const plain = { tag: true, address: 0x1000n, pesbt: data.pesbt } as unknown as Capability;
  fault(t, () => machine.store(plain, 0, new Uint8Array(4)), CapCause.TagViolation);
});

test('CTestSubset and CSEQX', (t) => {
  const { machine, data } = setup();
  const sub = machine.restrict(data, 0x10n, 0x20n, Perm.LOAD);
  t.true(sub.isSubsetOf(data));
  t.false(data.isSubsetOf(sub));
  t.false(machine.clearTag(sub).isSubsetOf(data));
  t.true(sub.equalsExact(machine.restrict(data, 0x10n, 0x20n, Perm.LOAD)));
  t.false(sub.equalsExact(machine.clearTag(sub)));
});

test('toString and describe present the fields readably', (t) => {
  const { machine, data } = setup();
  const ro = machine.andPerm(data, Perm.LOAD | Perm.GLOBAL);
  t.is(ro.toString(), '0x1000 [r,0x1000-0x3000]');
  const d = ro.describe();
  t.deepEqual(d.permNames, ['GLOBAL', 'LOAD']);
  t.is(d.length, 0x2000n);
  t.is(machine.clearTag(ro).toString(), '0x1000 [r,0x1000-0x3000] (invalid)');
});
