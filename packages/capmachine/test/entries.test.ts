import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import type { ExecutionContext } from 'ava';
import { AddressSpace, CapCause, Perm, PermSet, type Capability, type CoProcessContext, type EntryCode } from '../src/index.js';
import { causeOf, setup } from './_helpers.js';

/** Load `code` into the co-process (as a module would be) and return its entries. */
function load<K extends string>(t: ExecutionContext, ctx: CoProcessContext, code: Record<K, EntryCode>): Record<K, Capability> {
  const params = E.getOrElseW(() => t.fail('malloc'))(ctx.malloc(16))!;
  const names = Object.keys(code) as K[];
  return E.getOrElseW(() => t.fail('loadCode'))(ctx.loadCode({ module: import.meta.url, export: 'unused', names, params }, () => code))!;
}

test('cinvoke runs the installed code with the unsealed data; the caller never unseals', async (t) => {
  const space = AddressSpace.create();
  const seen: Capability[] = [];
  space.spawn({
    name: 'owner',
    main(ctx) {
      const m = ctx.machine;
      const code = load(t, ctx, { peek: (_pcc, data, arg) => (seen.push(data), (arg as number) + 1) });
      const key = space.mintTypes(1);
      const obj = E.getOrElseW(() => t.fail('malloc'))(ctx.malloc(32, PermSet.DATA | Perm.CINVOKE));
      const sealedCode = m.seal(code.peek, key);
      const sealedData = m.seal(obj, key);
      t.is(m.cinvoke(sealedCode, sealedData, 41), 42);
      t.false(seen[0]!.sealed);
      t.is(seen[0]!.base, obj.base);
      // Mismatched otypes, unsealed operands and code-less entries all trap.
      const other = space.mintTypes(1);
      t.is(causeOf(() => m.cinvoke(sealedCode, m.seal(obj, other))), CapCause.TypeViolation);
      t.is(causeOf(() => m.cinvoke(code.peek, sealedData)), CapCause.SealViolation);
      const blank = load(t, ctx, { a: () => 0 });
      const noCode = m.seal(m.restrict(blank.a, 0n, 16n), key);
      t.is(m.cinvoke(noCode, sealedData), 0);
    },
  });
  await space.run();
  t.is(seen.length, 1);
});

test('repeated CInvokes of one handle see its data each time, and none once its memory is revoked', async (t) => {
  const space = AddressSpace.create();
  const bases: bigint[] = [];
  space.spawn({
    name: 'owner',
    main(ctx) {
      const m = ctx.machine;
      const code = load(t, ctx, { base: (_pcc, data) => (bases.push(data.base), m.loadI32(data, 0)) });
      const key = space.mintTypes(1);
      const sealedCode = m.seal(code.base, key);
      const alloc = (v: number) => {
        const obj = E.getOrElseW(() => t.fail('malloc'))(ctx.malloc(32, PermSet.DATA | Perm.CINVOKE))!;
        m.storeI32(obj, 0, v);
        return { obj, handle: m.seal(obj, key) };
      };
      const a = alloc(7);
      const b = alloc(9);
      t.deepEqual([m.cinvoke(sealedCode, a.handle), m.cinvoke(sealedCode, a.handle), m.cinvoke(sealedCode, b.handle), m.cinvoke(sealedCode, a.handle)], [7, 7, 9, 7]);
      t.deepEqual(bases, [a.obj.base, a.obj.base, b.obj.base, a.obj.base]);
      m.revoke(a.obj);
      t.is(causeOf(() => m.cinvoke(sealedCode, a.handle)), CapCause.TagViolation, 'a handle to revoked memory no longer invokes');
      t.is(m.cinvoke(sealedCode, b.handle), 9, 'other handles are unaffected');
    },
  });
  await space.run();
  t.is(bases.length, 5);
});

test('code installed again at an entry runs from the next CInvoke on, even for the pair just CInvoked', async (t) => {
  const space = AddressSpace.create();
  space.spawn({
    name: 'owner',
    main(ctx) {
      const m = ctx.machine;
      const code = load(t, ctx, { v: () => 'first' });
      const key = space.mintTypes(1);
      const obj = E.getOrElseW(() => t.fail('malloc'))(ctx.malloc(32, PermSet.DATA | Perm.CINVOKE))!;
      const [sealedCode, handle] = [m.seal(code.v, key), m.seal(obj, key)];
      t.is(m.cinvoke(sealedCode, handle), 'first');
      t.is(m.cinvoke(sealedCode, handle), 'first');
      m.installCode(code.v, () => 'second');
      t.is(m.cinvoke(sealedCode, handle), 'second');
    },
  });
  await space.run();
});

test('a thread whose co-process ended waits no more: futexWait answers closed at once, even when a wake-up beat the exit', async (t) => {
  const space = AddressSpace.create();
  const log: string[] = [];
  // The word outlives the co-process (its own memory is reclaimed when it ends).
  const shared = space.allocateShared(16);
  space.spawn(
    {
    name: 'ends',
    async main(ctx) {
      const m = ctx.machine;
      const word = ctx.capv[0]!;
      let waiting = false;
      ctx.spawnThread('waiter', async (th) => {
        for (;;) {
          waiting = true;
          const why = await th.futexWait([{ cap: word, offset: 0, expected: m.loadI32(word, 0) }]);
          log.push(why);
          if (why !== 'woken') break;
        }
      });
      while (!waiting) await ctx.thread.yield();
      // Woken, then the co-process ends before the waiter runs: the exit's interrupt finds it
      // already woken, and its loop comes back to wait on the same word.
      m.storeI32(word, 0, 1);
      ctx.thread.futexWake(word, 0);
      ctx.exit(1);
    },
    },
    { capv: [shared] },
  );
  await space.run();
  t.deepEqual(log, ['woken', 'closed']);
});

test('installCode needs a live EXECUTE capability', (t) => {
  const { machine, data } = setup();
  t.is(causeOf(() => machine.installCode(data, () => 0)), CapCause.PermitExecuteViolation);
});

test('compareExchangeI32 swaps only on a match and needs LOAD|STORE', (t) => {
  const { machine, data } = setup();
  machine.storeI32(data, 0, 1);
  t.is(machine.compareExchangeI32(data, 0, 1, 2), 1);
  t.is(machine.compareExchangeI32(data, 0, 1, 3), 2);
  t.is(machine.loadI32(data, 0), 2);
  t.is(causeOf(() => machine.compareExchangeI32(machine.andPerm(data, Perm.LOAD), 0, 2, 3)), CapCause.PermitStoreViolation);
  t.is(causeOf(() => machine.compareExchangeI32(data, 2, 2, 3)), CapCause.AddressMisaligned);
});

test('fetchAddI32 adds atomically, returns the old value and needs LOAD|STORE', (t) => {
  const { machine, data } = setup();
  machine.storeI32(data, 4, 40);
  t.is(machine.fetchAddI32(data, 4, 2), 40);
  t.is(machine.fetchAddI32(data, 4, -1), 42);
  t.is(machine.loadI32(data, 4), 41);
  t.is(causeOf(() => machine.fetchAddI32(machine.andPerm(data, Perm.STORE), 4, 1)), CapCause.PermitLoadViolation);
  t.is(causeOf(() => machine.fetchAddI32(data, 6, 1)), CapCause.AddressMisaligned);
});

test('futexWait blocks until the word changes and is woken, or times out', async (t) => {
  const space = AddressSpace.create();
  const log: string[] = [];
  space.spawn({
    name: 'waiter',
    async main(ctx) {
      const m = ctx.machine;
      const word = E.getOrElseW(() => t.fail('malloc'))(ctx.malloc(16))!;
      t.is(await ctx.thread.futexWait([{ cap: word, offset: 0, expected: 5 }]), 'changed');
      t.is(await ctx.thread.futexWait([{ cap: word, offset: 0, expected: 0 }], 10), 'timeout');
      ctx.spawnThread('waker', async (th) => {
        await th.sleep(5);
        m.storeI32(word, 0, 1);
        log.push('wake');
        t.is(th.futexWake(word, 0), 1);
      });
      const why = await ctx.thread.futexWait([{ cap: word, offset: 0, expected: 0 }], 1000);
      log.push(`woke:${why}`);
      t.is(ctx.now(), 15);
    },
  });
  await space.run();
  t.deepEqual(log, ['wake', 'woke:woken']);
});
