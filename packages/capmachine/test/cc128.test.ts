import { readFileSync } from 'node:fs';
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { NULL_CAP, cc128, type Capability } from '../src/index.js';
import { almighty, mint } from '../src/capability.js';
import { setAddress, setBoundsDetailed } from '../src/derive.js';
import { MASK64 } from '../src/cc128-math.js';
import { hex } from './_helpers.js';

const fixture = new URL('./fixtures/cc128-setbounds.txt', import.meta.url);

function parseRows(): bigint[][] {
  return readFileSync(fixture, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/).map((x) => BigInt(`0x${x}`)));
}

function boundedFrom(parent: Capability, address: bigint, length: bigint) {
  return setBoundsDetailed(setAddress(parent, address), length);
}

test('the Sail setbounds fixture keeps its attribution header', (t) => {
  const head = readFileSync(fixture, 'utf8').split('\n').slice(0, 2).join('\n');
  t.regex(head, /Sail CHERI-RISC-V model/);
  t.regex(head, /cheri-compressed-cap/);
});

test('every Sail setbounds vector matches at both levels', (t) => {
  const rows = parseRows();
  t.is(rows.length, 2000);
  const failures: string[] = [];
  for (const [base1, top1, base2, top2, eb1, et1, eb2, et2] of rows as bigint[][] & [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint][]) {
    const first = boundedFrom(almighty(), base1!, top1! - base1!);
    const second = boundedFrom(first.cap, base2!, top2! - base2!);
    if (first.cap.base !== eb1 || first.cap.top !== et1) failures.push(`L1 ${hex(base1!)}..${hex(top1!)}`);
    if (second.cap.base !== eb2 || second.cap.top !== et2) failures.push(`L2 ${hex(base2!)}..${hex(top2!)}`);
    // The second request always lies inside the first; both results stay tagged.
    if (!first.cap.tag || !second.cap.tag) failures.push(`tag lost at ${hex(base1!)}`);
  }
  t.deepEqual(failures, []);
});

test('CRAM/CRRL agree with setbounds on every fixture row', (t) => {
  let checked = 0;
  for (const [base1, top1] of parseRows()) {
    const len = top1! - base1!;
    const { cap } = boundedFrom(almighty(), base1!, len);
    const mask = cc128.representableAlignmentMask(len);
    t.is(cap.base, base1! & mask);
    // Rounding the requested top up to the mask gives the new top (top may be 2^64).
    t.is(cap.top, (top1! + (~mask & MASK64)) & (mask | (1n << 64n)));
    checked++;
  }
  t.is(checked, 2000);
});

// spec §4.9: [address, len, exact, base, top, raw pesbt, memory pesbt]
const worked: Array<[bigint, bigint, boolean, bigint, bigint, bigint, bigint]> = [
  [0x1000n, 0x10n, true, 0x1000n, 0x1010n, 0xffff1ffff8041000n, 0xffff000004059004n],
  [0x1000n, 0xfffn, true, 0x1000n, 0x1fffn, 0xffff1ffffbffd000n, 0xffff000007fe5004n],
  [0x1001n, 0x1000n, false, 0x1000n, 0x2008n, 0xffff1ffffc021000n, 0xffff000000039004n],
  [0x1000n, 0x1000n, true, 0x1000n, 0x2000n, 0xffff1ffffc001000n, 0xffff000000019004n],
  [0x1008n, 0x1ff8n, true, 0x1008n, 0x3000n, 0xffff1ffffc001008n, 0xffff00000001900cn],
  [0x160600000n, 0x300000n, true, 0x160600000n, 0x160900000n, 0xffff1ffffe007001n, 0xffff00000201f005n],
  [0x7n, 0x10000000n, false, 0n, 0x10080000n, 0xffff1ffffc028000n, 0xffff000000030004n],
  [0xffffffffff000000n, 0xffffffn, false, 0xffffffffff000000n, 1n << 64n, 0xffff1ffffc007004n, 0xffff00000001f000n],
  [0x12345n, 0x12345n, false, 0x12300n, 0x24700n, 0xffff1ffffd1c1234n, 0xffff0000011d9230n],
  [0x401cf020n, 0x1800n, true, 0x401cf020n, 0x401d0820n, 0xffff1ffffe083020n, 0xffff00000209b024n],
  [0x40000000n, 0x100000000n, true, 0x40000000n, 0x140000000n, 0xffff1ffffd008404n, 0xffff000001010400n],
];

for (const [address, len, exact, base, top, raw, mem] of worked) {
  test(`worked vector: address ${hex(address)} length ${hex(len)}`, (t) => {
    const r = cc128.setBounds(setAddress(almighty(), address), len);
    t.is(r.exact, exact);
    t.is(r.cap.base, base);
    t.is(r.cap.top, top);
    t.is(hex(r.cap.pesbt), hex(raw));
    t.is(hex(cc128.encode(r.cap).memoryPesbt), hex(mem));
    t.true(r.cap.tag);
    const d = cc128.decode(raw, address);
    t.is(d.base, base);
    t.is(d.top, top);
  });
}

test('sealed and sentry encodings of [0x1000, 0x2000) (spec §4.9)', (t) => {
  const { cap } = cc128.setBounds(setAddress(almighty(), 0x1000n), 0x1000n);
  const sentryPesbt = (cap.pesbt & ~(0x3ffffn << 27n)) | (0x3fffen << 27n);
  t.is(hex(sentryPesbt), hex(0xffff1ffff4001000n));
  t.is(hex(cc128.toMemoryPesbt(sentryPesbt)), hex(0xffff000008019004n));
  const typed = (cap.pesbt & ~(0x3ffffn << 27n)) | (0x20002n << 27n);
  t.is(hex(typed), hex(0xffff100014001000n));
  t.is(hex(cc128.toMemoryPesbt(typed)), hex(0xffff0fffe8019004n));
  t.is(cc128.decode(typed, 0x1000n).otype, 0x20002);
});

test('decoder is total on wild patterns (reference library regression)', (t) => {
  // The library's own test: raw pesbt 0xFFFF1FFFFFFE7FFB decodes with top above 2^64.
  const d = cc128.decodeBounds(0xffff1ffffffe7ffbn, 0xffff002d02013ff6n);
  t.is(d.base, 0xffff002d01ffc000n);
  t.is(d.top, 0xffff002d027fc000n);
  const d0 = cc128.decodeBounds(0xffff1ffffffe7ffbn, 0n);
  t.is(d0.base, 0xffffffffffffc000n);
  t.is(d0.top, (1n << 64n) + 0x7fc000n);
});

test('NULL is all zeros in memory and decodes to [0, 2^64) with no perms', (t) => {
  const e = cc128.encode(NULL_CAP);
  t.is(e.address, 0n);
  t.is(e.memoryPesbt, 0n);
  t.false(e.tag);
  const d = cc128.decode(cc128.fromMemoryPesbt(0n), 0n);
  t.is(d.base, 0n);
  t.is(d.top, 1n << 64n);
  t.is(d.perms, 0);
  t.is(d.otype, 0x3ffff);
  t.false(d.sealed);
});

test('almighty capability: memory pesbt 0xFFFF000000000000, all perms, whole range', (t) => {
  const a = almighty();
  t.is(hex(a.memoryPesbt), hex(0xffff000000000000n));
  t.is(a.perms, 0x78fff);
  t.is(a.base, 0n);
  t.is(a.top, 1n << 64n);
  t.is(a.type, -1);
});

test('CRRL/CRAM examples of spec §4.7', (t) => {
  const cases: Array<[bigint, bigint, bigint]> = [
    [0x1000n, 0x1000n, 0xfffffffffffffff8n],
    [0x17ffn, 0x1800n, 0xfffffffffffffff8n],
    [0x1ffen, 0x2000n, 0xfffffffffffffff0n],
    [0x3ffan, 0x4000n, 0xffffffffffffffe0n],
    [0x10000n, 0x10000n, 0xffffffffffffff80n],
    [0x100000n, 0x100000n, 0xfffffffffffff800n],
    [0x1000000n, 0x1000000n, 0xffffffffffff8000n],
    [0x123456789n, 0x123800000n, 0xffffffffff800000n],
    [0xffffffffffffn, 0x1000000000000n, 0xffffff8000000000n],
  ];
  for (const [len, crrl, cram] of cases) {
    t.is(hex(cc128.representableLength(len)), hex(crrl), `CRRL ${hex(len)}`);
    t.is(hex(cc128.representableAlignmentMask(len)), hex(cram), `CRAM ${hex(len)}`);
  }
  t.is(cc128.representableAlignmentMask(0xfffn), MASK64);
});

test('lengths below 4096 are exact at any base', (t) => {
  for (const base of [0n, 1n, 0x1235n, 0xffffffff0003n]) {
    for (const len of [0n, 1n, 17n, 0xfffn]) {
      const r = cc128.setBounds(setAddress(almighty(), base), len);
      t.true(r.exact);
      t.is(r.cap.base, base);
      t.is(r.cap.top, base + len);
    }
  }
});

const arbAddr = fc.bigInt({ min: 0n, max: MASK64 });

testProp(
  'encode/decode round trip: setbounds never shrinks the request and is exact iff bounds equal it',
  [arbAddr, fc.bigInt({ min: 0n, max: 1n << 40n })],
  (t, address, length) => {
    fc.pre(address + length <= 1n << 64n);
    const r = cc128.setBounds(setAddress(almighty(), address), length);
    t.true(r.cap.base <= address);
    t.true(r.cap.top >= address + length);
    t.is(r.exact, r.cap.base === address && r.cap.top === address + length);
    const d = cc128.decode(r.cap.pesbt, r.cap.address);
    t.is(d.base, r.cap.base);
    t.is(d.top, r.cap.top);
  },
  { numRuns: 500 },
);

testProp(
  'the fast representability check never accepts what the precise check rejects',
  [arbAddr, fc.bigInt({ min: 1n, max: 1n << 36n }), fc.bigInt({ min: -(1n << 40n), max: 1n << 40n })],
  (t, address, length, inc) => {
    fc.pre(address + length <= 1n << 64n);
    const { cap } = cc128.setBounds(setAddress(almighty(), address), length);
    const next = (address + inc) & MASK64;
    if (cc128.fastRepresentable(cap.pesbt, cap.address, next)) {
      t.true(cc128.preciseRepresentable(cap.pesbt, cap.address, next));
    } else {
      t.pass();
    }
  },
  { numRuns: 1000 },
);

test('mint is private: the Capability constructor refuses outside callers', (t) => {
  const C = NULL_CAP.constructor as unknown as new (...a: unknown[]) => Capability;
  t.throws(() => new C(Symbol('capmachine.mint'), true, 0n, 0n), { instanceOf: TypeError });
  t.true(mint(true, 0n, 0n).tag); // the package-internal path still works
});
