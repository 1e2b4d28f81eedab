import { fc, testProp } from '@fast-check/ava';
import * as E from 'fp-ts/lib/Either.js';
import { CapabilityFault, type CapMachine, type Capability } from '../src/index.js';
import { setup } from './_helpers.js';

/** One instruction applied to a register file of capabilities. */
type Step =
  | { op: 'setAddress'; r: number; v: bigint }
  | { op: 'incOffset'; r: number; v: bigint }
  | { op: 'setBounds'; r: number; v: bigint }
  | { op: 'setBoundsExact'; r: number; v: bigint }
  | { op: 'andPerm'; r: number; mask: number }
  | { op: 'seal'; r: number; s: number }
  | { op: 'unseal'; r: number; s: number }
  | { op: 'conditionalSeal'; r: number; s: number }
  | { op: 'sealEntry'; r: number }
  | { op: 'buildCap'; r: number; s: number }
  | { op: 'copyType'; r: number; s: number }
  | { op: 'storeLoad'; r: number; s: number; slot: number };

const reg = fc.integer({ min: 0, max: 5 });
const delta = fc.oneof(fc.bigInt({ min: -0x3000n, max: 0x3000n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('setAddress' as const), r: reg, v: fc.bigInt({ min: 0n, max: 0x4000n }) }),
  fc.record({ op: fc.constant('incOffset' as const), r: reg, v: delta }),
  fc.record({ op: fc.constant('setBounds' as const), r: reg, v: fc.bigInt({ min: 0n, max: 0x3000n }) }),
  fc.record({ op: fc.constant('setBoundsExact' as const), r: reg, v: fc.bigInt({ min: 0n, max: 0x3000n }) }),
  fc.record({ op: fc.constant('andPerm' as const), r: reg, mask: fc.integer({ min: 0, max: 0x7ffff }) }),
  fc.record({ op: fc.constant('seal' as const), r: reg, s: reg }),
  fc.record({ op: fc.constant('unseal' as const), r: reg, s: reg }),
  fc.record({ op: fc.constant('conditionalSeal' as const), r: reg, s: reg }),
  fc.record({ op: fc.constant('sealEntry' as const), r: reg }),
  fc.record({ op: fc.constant('buildCap' as const), r: reg, s: reg }),
  fc.record({ op: fc.constant('copyType' as const), r: reg, s: reg }),
  fc.record({ op: fc.constant('storeLoad' as const), r: reg, s: reg, slot: fc.integer({ min: 0, max: 15 }) }),
);

function apply(m: CapMachine, regs: Capability[], step: Step): Capability {
  const a = regs[step.r]!;
  switch (step.op) {
    case 'setAddress':
      return m.setAddress(a, step.v);
    case 'incOffset':
      return m.incOffset(a, step.v);
    case 'setBounds':
      return m.setBounds(a, step.v);
    case 'setBoundsExact':
      return m.setBoundsExact(a, step.v);
    case 'andPerm':
      return m.andPerm(a, step.mask);
    case 'seal':
      return m.seal(a, regs[step.s]!);
    case 'unseal':
      return m.unseal(a, regs[step.s]!);
    case 'conditionalSeal':
      return m.conditionalSeal(a, regs[step.s]!);
    case 'sealEntry':
      return m.sealEntry(a);
    case 'buildCap':
      return m.buildCap(regs[step.s]!, a);
    case 'copyType':
      return m.copyType(a, regs[step.s]!);
    case 'storeLoad': {
      // Store through register s (if it can), load back through it.
      m.storeCap(regs[step.s]!, step.slot * 16, a);
      return m.loadCap(regs[step.s]!, step.slot * 16);
    }
  }
}

function within(c: Capability, root: Capability): boolean {
  return c.base >= root.base && c.top <= root.top && (c.perms & ~root.perms) === 0;
}

testProp(
  'monotonicity: no sequence of instructions yields more authority than the roots it started from',
  [fc.array(fc.tuple(arbStep, reg), { minLength: 1, maxLength: 40 })],
  (t, program) => {
    const { machine, data, roots } = setup();
    const key = E.getOrElseW(() => {
      throw new Error('no otypes');
    })(roots.userTypes.allocate(8));
    // Register file: a data region, a sealing range, derived views.
    const regs: Capability[] = [data, key, machine.restrict(data, 0x100n, 0x200n), data, key, data];
    const sealingRoot = key;
    for (const [step, dst] of program) {
      let out: Capability;
      try {
        out = apply(machine, regs, step);
      } catch (e) {
        if (e instanceof CapabilityFault) continue; // a dereference trap changes nothing
        throw e;
      }
      if (out.tag) {
        // Every tagged value stays inside one of the two roots it could descend from.
        const ok = within(out, data) || within(out, sealingRoot);
        if (!ok) return t.fail(`escaped: ${step.op} -> ${out.toString()}`);
        if (out.reserved !== 0) return t.fail('tagged capability with reserved bits');
        if (out.top > 1n << 64n || out.base > out.top) return t.fail('tagged capability with bad bounds');
      }
      regs[dst] = out;
    }
    t.pass();
  },
  { numRuns: 300 },
);

testProp(
  'a derived tagged capability is a subset of its tagged parent (single steps)',
  [arbStep],
  (t, step) => {
    const { machine, data, roots } = setup();
    const key = E.getOrElseW(() => {
      throw new Error('no otypes');
    })(roots.userTypes.allocate(8));
    const regs: Capability[] = [data, key, data, key, data, key];
    if (step.op === 'unseal' || step.op === 'seal' || step.op === 'conditionalSeal' || step.op === 'buildCap' || step.op === 'copyType' || step.op === 'storeLoad') {
      return t.pass();
    }
    const parent = regs[step.r]!;
    let out: Capability;
    try {
      out = apply(machine, regs, step);
    } catch {
      return t.pass();
    }
    if (out.tag) t.true(within(out, parent), `${step.op}: ${out.toString()} not within ${parent.toString()}`);
    else t.pass();
  },
  { numRuns: 500 },
);
