import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import * as E from 'fp-ts/lib/Either.js';
import { CapCause, CapabilityFault, Otype, Perm, PermSet, type Capability, type TypeManager } from '../src/index.js';
import { causeOf, setup } from './_helpers.js';

function alloc(tm: TypeManager, count = 1): Capability {
  const r = tm.allocate(count);
  if (E.isLeft(r)) throw new Error('otypes exhausted');
  return r.right;
}


test('seal/unseal round trip restores the exact capability', (t) => {
  const { machine, data, roots } = setup();
  const key = alloc(roots.userTypes);
  const sealed = machine.seal(data, key);
  t.true(sealed.tag);
  t.true(sealed.sealed);
  t.is(sealed.otype, Number(key.address));
  const opened = machine.unseal(sealed, key);
  t.true(opened.equalsExact(data));
});

test('a sealing capability for one otype cannot unseal another', (t) => {
  const { machine, data, roots } = setup();
  const a = alloc(roots.userTypes);
  const b = alloc(roots.userTypes);
  t.not(a.address, b.address);
  const sealed = machine.seal(data, a);
  t.false(machine.unseal(sealed, b).tag);
  // Moving b's address to a's otype leaves b's bounds: still no authority.
  t.false(machine.unseal(sealed, machine.setAddress(b, a.address)).tag);
  const strict = setup('strict');
  const sa = alloc(strict.roots.userTypes);
  const sb = alloc(strict.roots.userTypes);
  const s2 = strict.machine.seal(strict.data, sa);
  t.is(causeOf(() => strict.machine.unseal(s2, sb)), CapCause.TypeViolation);
  t.is(causeOf(() => strict.machine.unseal(s2, strict.machine.setAddress(sb, sa.address))), CapCause.LengthViolation);
});

test('kernel and user type managers hand out disjoint ranges', (t) => {
  const { roots } = setup();
  const k = alloc(roots.kernelTypes);
  const u = alloc(roots.userTypes);
  t.true(k.address >= BigInt(Otype.KERNEL_MIN));
  t.true(u.address <= BigInt(Otype.USER_MAX));
  t.is(k.perms, PermSet.SEALCAP);
  const many = alloc(roots.userTypes, 100);
  t.is(many.length, 100n);
});

test('type manager reports exhaustion as a value', (t) => {
  const { roots } = setup();
  const sub = roots.userTypes.subManager(3);
  if (E.isLeft(sub)) return t.fail();
  t.true(E.isRight(sub.right.allocate(2)));
  t.true(E.isRight(sub.right.allocate(1)));
  const none = sub.right.allocate(1);
  t.true(E.isLeft(none));
  if (E.isLeft(none)) t.is(none.left._tag, 'OtypesExhausted');
});

test('sealed capabilities cannot be dereferenced', (t) => {
  const { machine, data, roots } = setup();
  const sealed = machine.seal(data, alloc(roots.userTypes));
  t.is(causeOf(() => machine.load(sealed, 0, 4)), CapCause.SealViolation);
  t.is(causeOf(() => machine.store(sealed, 0, new Uint8Array(4))), CapCause.SealViolation);
  t.is(causeOf(() => machine.loadCap(sealed, 0)), CapCause.SealViolation);
});

test('ISAv9 seal without authority yields untagged; strict traps in order', (t) => {
  const { machine, data, roots } = setup();
  const key = alloc(roots.userTypes);
  t.false(machine.seal(data, machine.andPerm(key, Perm.UNSEAL)).tag);
  t.false(machine.seal(data, machine.clearTag(key)).tag);
  t.false(machine.seal(machine.seal(data, key), key).tag);
  t.false(machine.seal(data, machine.setAddress(key, key.address + 5n)).tag);
  const s = setup('strict');
  const k = alloc(s.roots.userTypes);
  t.is(causeOf(() => s.machine.seal(s.machine.clearTag(s.data), k)), CapCause.TagViolation);
  t.is(causeOf(() => s.machine.seal(s.data, s.machine.clearTag(k))), CapCause.TagViolation);
  t.is(causeOf(() => s.machine.seal(s.data, s.machine.andPerm(k, Perm.UNSEAL))), CapCause.PermitSealViolation);
  t.is(causeOf(() => s.machine.unseal(s.machine.seal(s.data, k), s.machine.andPerm(k, Perm.SEAL))), CapCause.PermitUnsealViolation);
  t.is(causeOf(() => s.machine.unseal(s.data, k)), CapCause.SealViolation);
});

test('unseal drops GLOBAL unless the unsealer has it', (t) => {
  const { machine, data, roots } = setup();
  const key = alloc(roots.userTypes);
  const sealed = machine.seal(data, key);
  const local = machine.unseal(sealed, machine.andPerm(key, Perm.UNSEAL));
  t.true(local.tag);
  t.false(local.has(Perm.GLOBAL));
  t.true(machine.unseal(sealed, key).has(Perm.GLOBAL));
});

test('conditional seal passes through or seals', (t) => {
  const { machine, data, roots } = setup();
  const key = alloc(roots.userTypes);
  t.true(machine.conditionalSeal(data, machine.clearTag(key)).equalsExact(data));
  const sealed = machine.conditionalSeal(data, key);
  t.is(sealed.otype, Number(key.address));
  t.true(machine.conditionalSeal(sealed, key).equalsExact(sealed));
  t.true(machine.conditionalSeal(data, machine.setAddress(key, key.address + 7n)).equalsExact(data));
});

test('sentries cannot be modified or dereferenced; strict needs EXECUTE', (t) => {
  const { machine, roots } = setup();
  const code = machine.restrict(roots.memory, 0x4000n, 0x100n, PermSet.USERSPACE_CODE);
  const sentry = machine.sealEntry(code);
  t.true(sentry.tag);
  t.true(sentry.isSentry);
  t.is(sentry.type, -2);
  t.false(machine.setAddress(sentry, 0x4004n).tag);
  t.is(causeOf(() => machine.load(sentry, 0, 4)), CapCause.SealViolation);
  const s = setup('strict');
  const dataOnly = s.machine.andPerm(s.data, Perm.LOAD);
  t.is(causeOf(() => s.machine.sealEntry(dataOnly)), CapCause.PermitExecuteViolation);
});

test('copyType derives the sealing capability address from an object', (t) => {
  const { machine, data, roots } = setup();
  const range = alloc(roots.userTypes, 16);
  const key = machine.setAddress(range, range.address + 3n);
  const sealed = machine.seal(data, key);
  const found = machine.copyType(range, sealed);
  t.true(found.tag);
  t.is(found.address, key.address);
  t.true(machine.unseal(sealed, found).tag);
  const fromUnsealed = machine.copyType(range, data);
  t.false(fromUnsealed.tag);
  t.is(fromUnsealed.address, (1n << 64n) - 1n);
});

test('buildCap re-derives only what the authority could derive', (t) => {
  const { machine, data, roots } = setup();
  const sub = machine.restrict(data, 0x100n, 0x40n, Perm.LOAD | Perm.GLOBAL);
  const rebuilt = machine.buildCap(data, machine.clearTag(sub));
  t.true(rebuilt.tag);
  t.true(rebuilt.equalsExact(sub));
  // Authority too narrow or too weak: untagged.
  t.false(machine.buildCap(machine.restrict(data, 0n, 0x10n), machine.clearTag(sub)).tag);
  t.false(machine.buildCap(machine.andPerm(data, Perm.STORE), machine.clearTag(sub)).tag);
  // A sealed pattern other than a sentry is never re-derived.
  const sealed = machine.seal(sub, alloc(roots.userTypes));
  t.false(machine.buildCap(data, machine.clearTag(sealed)).tag);
  const s = setup('strict');
  const ssub = s.machine.restrict(s.data, 0x100n, 0x40n, Perm.LOAD);
  t.is(causeOf(() => s.machine.buildCap(s.machine.andPerm(s.data, Perm.STORE), s.machine.clearTag(ssub))), CapCause.UserDefinedPermissionViolation);
});

test('CInvoke unseals a matching code/data pair and checks in spec order', (t) => {
  const { machine, data, roots } = setup();
  const key = alloc(roots.userTypes);
  const codeRegion = machine.restrict(roots.memory, 0x8000n, 0x100n, PermSet.USERSPACE_CODE);
  const dataRegion = machine.restrict(roots.memory, 0x1000n, 0x2000n, PermSet.DATA | Perm.CINVOKE);
  t.is(machine.andPerm(data, PermSet.DATA | Perm.CINVOKE).perms, PermSet.DATA); // cannot be added later
  const code = machine.seal(codeRegion, key);
  const obj = machine.seal(dataRegion, key);
  const { pcc, data: idc } = machine.invoke(code, obj);
  t.false(pcc.sealed);
  t.false(idc.sealed);
  t.true(pcc.has(Perm.EXECUTE));
  t.is(idc.base, data.base);
  const other = machine.seal(dataRegion, alloc(roots.userTypes));
  t.is(causeOf(() => machine.invoke(code, other)), CapCause.TypeViolation);
  t.is(causeOf(() => machine.invoke(codeRegion, obj)), CapCause.SealViolation);
  t.is(causeOf(() => machine.invoke(machine.clearTag(code), obj)), CapCause.TagViolation);
  t.is(causeOf(() => machine.invoke(code, machine.seal(machine.andPerm(dataRegion, PermSet.DATA), key))), CapCause.PermitCInvokeViolation);
  t.is(causeOf(() => machine.invoke(code, code)), CapCause.PermitExecuteViolation);
  const noExec = machine.seal(machine.andPerm(codeRegion, Perm.LOAD | Perm.CINVOKE), key);
  t.is(causeOf(() => machine.invoke(noExec, obj)), CapCause.PermitExecuteViolation);
});

testProp(
  'seal then unseal is the identity for any in-bounds otype of the range',
  [fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 0x1ff0 }), fc.integer({ min: 1, max: 0x10 })],
  (t, k, off, len) => {
    const { machine, data, roots } = setup();
    const range = alloc(roots.userTypes, 64);
    const key = machine.setAddress(range, range.address + BigInt(k));
    const c = machine.restrict(data, BigInt(off), BigInt(len));
    const s = machine.seal(c, key);
    t.true(s.tag && s.sealed);
    t.false(machine.setBounds(s, 1n).tag);
    t.true(machine.unseal(s, key).equalsExact(c));
  },
  { numRuns: 100 },
);
