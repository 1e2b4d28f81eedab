import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, CapCause, Perm, type Capability } from '../src/index.js';
import { causeOf } from './_helpers.js';

const must = <T>(e: E.Either<{ message: string }, T>): T => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

test('an exited co-process’s memory is revoked: register copies die at exit, stored copies at the sweep', async (t) => {
  // A quarantine limit of one granule: every exit sweeps at once.
  const space = AddressSpace.create({ stdout: () => {}, reclaimQuarantineBytes: 16 });
  let gift: Capability | undefined;
  const donor = space.spawn({
    name: 'donor',
    main: async (ctx) => {
      gift = must(ctx.malloc(64));
      ctx.machine.store(gift, 0, Uint8Array.of(42));
      await ctx.thread.sleep(10); // the holder uses the gift while the donor lives
      return 0;
    },
  });
  const seen: Record<string, unknown> = {};
  space.spawn({
    name: 'holder',
    main: async (ctx) => {
      while (gift === undefined) await ctx.thread.yield();
      const mine = must(ctx.malloc(32));
      const view = ctx.machine.andPerm(gift, Perm.LOAD | Perm.LOAD_CAP);
      ctx.machine.storeCap(mine, 0, view);
      seen['before'] = ctx.machine.load(view, 0, 1)[0];
      await ctx.thread.park(donor.exited);
      seen['register'] = causeOf(() => ctx.machine.load(view, 0, 1));
      seen['stored'] = ctx.machine.loadCap(mine, 0).tag;
      seen['own'] = ctx.machine.load(mine, 16, 1).length;
    },
  });
  await space.run();
  await space.shutdown();
  t.is(seen['before'], 42);
  t.is(seen['register'], CapCause.TagViolation, 'a register copy faults after the owner exits');
  t.false(seen['stored'] as boolean, 'the sweep cleared the stored copy');
  t.is(seen['own'], 1, 'the holder’s own memory is untouched');
});

test('memory of exited co-processes is reused: a small heap serves many short-lived co-processes', async (t) => {
  const space = AddressSpace.create({ stdout: () => {}, memoryBytes: 1 << 20 });
  let failures = 0;
  for (let i = 0; i < 200; i++) {
    const h = space.spawn({
      name: `short-${i}`,
      main: (ctx) => {
        // 64 KiB each: 200 of them are 12.5 MiB, far beyond the 1 MiB heap.
        if (E.isLeft(ctx.malloc(64 << 10))) failures++;
        return 0;
      },
    });
    await space.run();
    await h.exited;
  }
  await space.shutdown();
  t.is(failures, 0);
});

test('a freed region is not reused before the sweep, and stale stored capabilities never reach the new owner', async (t) => {
  const space = AddressSpace.create({ stdout: () => {}, memoryBytes: 1 << 20, reclaimQuarantineBytes: 1 << 30 });
  let stale: Capability | undefined;
  let store: Capability | undefined;
  const keeper = space.spawn({
    name: 'keeper',
    main: async (ctx) => {
      store = must(ctx.malloc(16));
      await ctx.thread.park(new Promise(() => {}));
    },
  });
  void keeper;
  const a = space.spawn({
    name: 'a',
    main: (ctx) => {
      stale = must(ctx.malloc(4096));
      return 0;
    },
  });
  await space.run();
  await a.exited;
  space.machine.storeCap(store!, 0, stale!);
  t.true(space.reclaimPending >= 4096, 'held in quarantine (the limit is never reached)');
  // Fill the heap: the allocation that would fail sweeps the quarantine, then reuses the region.
  let reused: Capability | undefined;
  space.spawn({
    name: 'b',
    main: (ctx) => {
      for (;;) {
        const r = ctx.malloc(4096);
        if (E.isLeft(r)) return 0;
        if (r.right.base === stale!.base) reused = r.right;
      }
    },
  });
  await space.run();
  t.truthy(reused, 'the region came back after the sweep');
  t.false(space.machine.loadCap(store!, 0).tag, 'the stored stale capability was swept before reuse');
  await space.shutdown();
});
