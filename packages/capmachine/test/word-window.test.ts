import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { CapCause, CapMachine, Perm } from '../src/index.js';
import { RobustWord } from '../src/word-window.js';
import { causeOf, setup } from './_helpers.js';

test('a word window opens only where every load and store would be allowed', (t) => {
  const { machine, data } = setup();
  const rec = machine.restrict(data, 0x100n, 64n);
  t.is(causeOf(() => machine.words(machine.clearTag(rec))), CapCause.TagViolation);
  t.is(causeOf(() => machine.words(machine.andPerm(rec, Perm.LOAD))), CapCause.PermitStoreViolation);
  t.is(causeOf(() => machine.words(machine.andPerm(rec, Perm.STORE))), CapCause.PermitLoadViolation);
  t.is(causeOf(() => machine.words(machine.setAddress(rec, rec.address + 2n))), CapCause.AddressMisaligned);
  t.is(causeOf(() => machine.words(rec)), undefined);
});

test('a window reaches exactly its capability: each word inside, none outside or misaligned', (t) => {
  const { machine, data } = setup();
  const rec = machine.restrict(data, 0x100n, 64n);
  const w = machine.words(rec);
  t.is(causeOf(() => w.load(60)), undefined);
  t.is(causeOf(() => w.load(64)), CapCause.LengthViolation);
  t.is(causeOf(() => w.load(-4)), CapCause.LengthViolation);
  t.is(causeOf(() => w.store(2, 1)), CapCause.LengthViolation);
  t.is(causeOf(() => w.add(64, 1)), CapCause.LengthViolation);
  t.is(causeOf(() => w.compareExchange(-4, 0, 1)), CapCause.LengthViolation);
  t.is(w.address(8), rec.addressNumber + 8);
  // Offsets count from the capability's address, as loads do.
  const upper = machine.words(machine.setAddress(rec, rec.address + 32n));
  t.is(causeOf(() => upper.load(28)), undefined);
  t.is(causeOf(() => upper.load(32)), CapCause.LengthViolation);
});

test('a robust word is checked once by its window, kept per word, and cannot be forged', (t) => {
  const { machine, data } = setup();
  const rec = machine.restrict(data, 0x100n, 64n);
  const w = machine.words(rec);
  const r = w.robust(8, 4);
  t.is(RobustWord.word(r), rec.addressNumber + 8);
  t.is(RobustWord.wake(r), rec.addressNumber + 4);
  t.is(w.robust(8, 4), r, 'the same word and wake word: the one the window made');
  const other = w.robust(8, 12);
  t.not(other, r, 'another wake word: another robust word');
  t.is(RobustWord.wake(other), rec.addressNumber + 12);
  t.is(causeOf(() => w.robust(64, 4)), CapCause.LengthViolation, 'the word outside the window');
  t.is(causeOf(() => w.robust(8, 64)), CapCause.LengthViolation, 'the wake word outside it');
  t.is(causeOf(() => w.robust(6, 4)), CapCause.LengthViolation, 'misaligned');
  // The class is reachable from any instance; without the module's token it makes nothing.
  const Ctor = Object.getPrototypeOf(r).constructor as new (...a: unknown[]) => RobustWord;
  t.throws(() => new Ctor(Symbol('RobustWord'), 0, 4, 0, 4), { instanceOf: TypeError });
  // An object of the right shape is not one: its addresses cannot be read.
  t.throws(() => RobustWord.word({ offset: 0, wakeOffset: 4 } as unknown as RobustWord), { instanceOf: TypeError });
});

for (const exclusive of [false, true]) {
  const memory = exclusive ? 'exclusive memory (plain accesses)' : 'shared memory (Atomics)';
  testProp(
    `${memory}: window accesses agree with the checked loads and stores word for word`,
    [fc.array(fc.record({ op: fc.constantFrom('store', 'add', 'cas', 'or', 'and'), word: fc.integer({ min: 0, max: 15 }), value: fc.integer() }), { maxLength: 40 })],
    (t, ops) => {
      const { machine, data } = setup('v9', 1 << 16, exclusive);
      const rec = machine.restrict(data, 0x200n, 64n);
      const w = machine.words(rec);
      const model = new Array<number>(16).fill(0);
      for (const { op, word, value } of ops) {
        const off = word * 4;
        if (op === 'store') {
          w.store(off, value);
          model[word] = value | 0;
        } else if (op === 'add') {
          t.is(w.add(off, value), model[word]!);
          model[word] = (model[word]! + value) | 0;
        } else if (op === 'or') {
          t.is(w.or(off, value), model[word]!);
          model[word] = model[word]! | value;
        } else if (op === 'and') {
          t.is(w.and(off, value), model[word]!);
          model[word] = model[word]! & value;
        } else {
          const expected = value % 2 === 0 ? model[word]! : value;
          t.is(w.compareExchange(off, expected, value), model[word]!);
          if (expected === model[word]) model[word] = value | 0;
        }
      }
      for (let i = 0; i < 16; i++) {
        t.is(w.load(i * 4), model[i]!);
        t.is(w.loadAtomic(i * 4), model[i]!);
        t.is(machine.loadI32(rec, i * 4), model[i]!);
      }
      // The machine's own atomics (checked per call) agree too.
      t.is(machine.fetchAddI32(rec, 0, 5), model[0]!);
      t.is(machine.compareExchangeI32(rec, 0, (model[0]! + 5) | 0, 9), (model[0]! + 5) | 0);
      t.is(machine.compareExchangeI32(rec, 0, 8, 1), 9, 'a failed compare-exchange leaves the word');
      t.is(machine.loadI32(rec, 0), 9);
    },
  );

  test(`${memory}: a window write is a data write: it clears the tag of the granule it lands in, only that one`, (t) => {
    const { machine, data } = setup('v9', 1 << 16, exclusive);
    const rec = machine.restrict(data, 0x300n, 64n);
    machine.storeCap(rec, 0, data);
    machine.storeCap(rec, 16, data);
    const w = machine.words(rec);
    w.store(4, 7);
    t.false(machine.loadCap(rec, 0).tag);
    t.true(machine.loadCap(rec, 16).tag);
    w.add(20, 1);
    t.false(machine.loadCap(rec, 16).tag);
    machine.storeCap(rec, 48, data);
    w.or(52, 0);
    t.false(machine.loadCap(rec, 48).tag, 'an OR writes, even one that changes no bit');
    machine.storeCap(rec, 48, data);
    w.and(48, -1);
    t.false(machine.loadCap(rec, 48).tag);
    machine.storeCap(rec, 32, data);
    t.is(w.load(32), machine.loadI32(rec, 32), 'a load reads the bytes and leaves the tag');
    t.true(machine.loadCap(rec, 32).tag);
    w.compareExchange(36, 1, 2);
    t.false(machine.loadCap(rec, 32).tag, 'a compare-exchange writes, even one that fails');
  });
}

test('exclusive memory is created, never attached: buffers from elsewhere may be mapped by another thread', (t) => {
  const shared = CapMachine.boot({ memoryBytes: 1 << 16 });
  t.false(shared.memory.exclusive);
  t.true(CapMachine.boot({ memoryBytes: 1 << 16, exclusive: true }).memory.exclusive);
  t.throws(() => CapMachine.boot({ buffers: shared.memory.buffers, exclusive: true }), { instanceOf: RangeError });
  t.false(CapMachine.boot({ buffers: shared.memory.buffers }).memory.exclusive);
});

test('a window is not kept across a revocation: opening one on a revoked capability traps', (t) => {
  const { machine, data } = setup();
  const region = machine.restrict(data, 0x400n, 64n);
  machine.revoke(region);
  t.is(causeOf(() => machine.words(region)), CapCause.TagViolation);
});
