/**
 * Every input that crashed comsg's microkernel (spec §8, items 1–7), as a named regression:
 * here each is a typed error, the daemon keeps serving, and its tables stay consistent.
 */
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { Perm, type Capability } from '@comsg/libcoproc';
import {
  ccbInstall,
  ccbRegister,
  coclose,
  cocreate,
  codiscover,
  codrop,
  coinsert,
  colisten,
  copoll,
  coportMsgFree,
  coprovide,
  corecv,
  coselect,
  cosend,
  openCoport,
  PollEvent,
} from '@comsg/libcomsg';
import { ok, tagOf, withKernel, type KernelOptions } from '../scenarios/_kernel.js';
import type { CoProcessContext, UkernThread } from '@comsg/libcoproc';
import type { AddressSpace, Microkernel } from '@comsg/libcoproc';

type Body = (ctx: CoProcessContext, k: UkernThread, space: AddressSpace, kernel: Microkernel) => Promise<void>;

/** Run `body`, then check every daemon is running, consistent, and never hit a defect. */
function regression(title: string, body: Body, options: KernelOptions['kernel'] = {}): void {
  test(`§8 ${title}`, async (t) => {
    await withKernel(async (ctx, k, space, kernel) => {
      await body(ctx, k, space, kernel);
      t.deepEqual(kernel.check(), { nsd: [], coserviced: [], coeventd: [], ipcd: [] });
      t.true(Object.values(kernel.status()).every((s) => s.state === 'running'));
      for (const [d, s] of Object.entries(kernel.inspect().pools)) t.is(s.defects, 0, d);
      t.is(tagOf(await coselect(k, 'COCREATE', 'COSERVICE', k.root)), 'ok', 'nsd still answers');
      t.pass();
    }, options);
  });
}

const expect = (tag: string, r: E.Either<{ _tag: string }, unknown>): void => {
  const got = E.isLeft(r) ? r.left._tag : 'ok';
  if (got !== tag) throw new Error(`expected ${tag}, got ${got}`);
};

regression('1: coinsert with an empty or invalid-character name is EINVAL', async (_ctx, k) => {
  for (const name of ['', 'a/b', 'nul\0x', 'café', ' ']) expect('EINVAL', await coinsert(k, name, 'RESERVATION', undefined, k.root));
  expect('ENAMETOOLONG', await coinsert(k, 'x'.repeat(92), 'RESERVATION', undefined, k.root));
});

regression('2: codrop with the root namespace as parent is a typed error', async (_ctx, k) => {
  expect('EINVAL', await codrop(k, k.root, k.root));
  const child = ok(await cocreate(k, 'child', 'PUBLIC', k.root)).ns;
  expect('ENOENT', await codrop(k, child, child));
});

regression('3: codiscover with a NULL, sealed (reservation) or unreadable object is EINVAL', async (ctx, k) => {
  const res = ok(await coinsert(k, 'res', 'RESERVATION', undefined, k.root));
  const unreadable = ctx.machine.andPerm(ok(ctx.malloc(64)), Perm.GLOBAL);
  for (const bad of [undefined, res, unreadable, ctx.machine.clearTag(res)]) expect('EINVAL', await codiscover(k, bad as unknown as Capability));
});

regression('3a: foreign sealed and unreadable capabilities where a coport goes are EINVAL', async (ctx, k) => {
  const nsHandle = k.root;
  const big = ctx.machine.andPerm(ok(ctx.malloc(128)), Perm.GLOBAL);
  const buf = ok(ctx.malloc(64));
  for (const bad of [nsHandle, big, ctx.machine.clearTag(nsHandle)]) {
    expect('EINVAL', await coclose(k, bad));
    expect('EINVAL', await cosend(k, bad, buf, 8));
    expect('EINVAL', await corecv(k, bad, buf, 8));
    expect('EINVAL', await copoll(k, [{ port: bad, events: PollEvent.IN }], 0));
    expect('EINVAL', await coportMsgFree(k, bad, buf));
  }
});

regression('3b: an untagged copy of a namespace handle is EINVAL at every nsd op', async (ctx, k) => {
  const untagged = ctx.machine.clearTag(k.root);
  expect('EINVAL', await coselect(k, 'x', 'COPORT', untagged));
  expect('EINVAL', await coinsert(k, 'x', 'RESERVATION', undefined, untagged));
  expect('EINVAL', await cocreate(k, 'x', 'PUBLIC', untagged));
});

regression(
  '4: coprovide when the coservice table is full is ENOSPC',
  async (ctx, k) => {
    const target = ok(ctx.thread.coregister());
    let last: E.Either<{ _tag: string }, unknown> = E.right(undefined);
    for (let i = 0; i < 300 && E.isRight(last); i++) last = await coprovide(k, [target]);
    expect('ENOSPC', last);
  },
);

regression(
  '5: namespace and object table exhaustion is ENOSPC, with no corrupt entries',
  async (_ctx, k) => {
    let ns: E.Either<{ _tag: string }, unknown> = E.right(undefined);
    for (let i = 0; i < 40 && E.isRight(ns); i++) ns = await cocreate(k, `ns${i}`, 'PUBLIC', k.root);
    expect('ENOSPC', ns);
    let obj: E.Either<{ _tag: string }, unknown> = E.right(undefined);
    for (let i = 0; i < 80 && E.isRight(obj); i++) obj = await coinsert(k, `o${i}`, 'RESERVATION', undefined, k.root);
    expect('ENOSPC', obj);
  },
  { nsd: { limits: { namespaces: 8, objects: 40 } } },
);

regression('6: a failing callback is reported, and coeventd keeps serving', async (ctx, k, _space, kernel) => {
  // A callback target that faults when called.
  let target: Capability | undefined;
  const victim = ctx.coexecve({
    name: 'victim',
    main: async (vctx) => {
      const vk = ok(await import('@comsg/libcomsg').then((l) => l.coprocInit(vctx)));
      const ev = ok(await colisten(vk));
      while (target === undefined) await vctx.thread.yield();
      const func = ok(await ccbRegister(vk, target));
      ok(await ccbInstall(vk, func, ev));
      return 0;
    },
  });
  const failing = ctx.coexecve({
    name: 'failing-callback',
    main: async (fctx) => {
      fctx.thread.cosetup(1);
      target = ok(fctx.thread.coregister());
      const inb = ok(fctx.malloc(256));
      const outb = ok(fctx.malloc(256));
      await fctx.thread.coaccept(() => {
        throw new Error('callback explodes');
      }, { inbuf: inb, outbuf: outb });
    },
  });
  void failing;
  await ctx.thread.park(victim.exited);
  for (let i = 0; i < 50 && !kernel.log.some((e) => e.kind === 'exited'); i++) await ctx.thread.sleep(5);
  expect('ok', await colisten(k));
});

regression('7: copoll keeps working past 32 notifications (no notifier queue to overflow)', async (ctx, k) => {
  const port = ok(await openCoport(k, 'COCARRIER'));
  const buf = ok(ctx.malloc(16));
  for (let i = 0; i < 100; i++) {
    ok(await cosend(k, port, buf, 8));
    const r = ok(await copoll(k, [{ port, events: PollEvent.IN }], 0));
    if (r.revents[0] !== PollEvent.IN) throw new Error(`poll ${i}: ${r.revents[0]}`);
    ok(await corecv(k, port, buf, 16));
  }
});
