import test from 'ava';
import { fc } from '@fast-check/ava';
import * as E from 'fp-ts/lib/Either.js';
import {
  AddressSpace,
  COSETUP_COACCEPT,
  COSETUP_COCALL,
  Perm,
  PermSet,
  type Capability,
  type CoProcessContext,
  type CoThread,
  type IncomingCall,
  type SysError,
} from '../src/index.js';

function ok<T>(e: E.Either<SysError, T>): T {
  if (E.isLeft(e)) throw new Error(`unexpected ${e.left._tag}: ${e.left.message}`);
  return e.right;
}

function errTag<T>(e: E.Either<SysError, T>): string {
  return E.isLeft(e) ? e.left._tag : 'ok';
}

/** Buffers for a client: out and in, 256 bytes each. */
function buffers(ctx: CoProcessContext): { out: Capability; inb: Capability } {
  return { out: ok(ctx.malloc(256)), inb: ok(ctx.malloc(256)) };
}

/** An echo service: replies with the request bytes, plus 1 added to byte 0. */
function echoService(name: string, onCall?: (call: IncomingCall, ctx: CoProcessContext) => void) {
  return {
    name,
    main: async (ctx: CoProcessContext) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      ok(ctx.thread.coregister(name));
      const inbuf = ok(ctx.malloc(256));
      const outbuf = ok(ctx.malloc(256));
      await ctx.thread.coaccept((call) => {
        onCall?.(call, ctx);
        ctx.machine.copy(outbuf, 0, inbuf, 0, call.length);
        const b = ctx.machine.load(inbuf, 0, 1);
        ctx.machine.store(outbuf, 0, Uint8Array.of((b[0]! + 1) & 0xff));
        return call.length;
      }, { inbuf, outbuf });
    },
  };
}

async function withClient(space: AddressSpace, body: (ctx: CoProcessContext) => Promise<void> | void): Promise<void> {
  let error: unknown;
  const h = space.spawn({
    name: 'client',
    main: async (ctx) => {
      try {
        await body(ctx);
      } catch (e) {
        error = e;
      }
    },
  });
  await space.run();
  await h.exited;
  if (error !== undefined) throw error;
}

test('cocall copies the request in and the reply out, returning the reply length', async (t) => {
  const space = AddressSpace.create();
  space.spawn(echoService('echo'));
  await withClient(space, async (ctx) => {
    await ctx.thread.yield(); // let the service reach coaccept
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    const target = ok(ctx.thread.colookup('echo'));
    const { out, inb } = buffers(ctx);
    ctx.machine.store(out, 0, Uint8Array.from([41, 2, 3, 4]));
    const n = ok(ctx.thread.cocall(target, out, 4, inb, 256));
    t.is(n, 4);
    t.deepEqual([...ctx.machine.load(inb, 0, 4)], [42, 2, 3, 4]);
    // Reply truncated to the caller's inlen.
    t.is(ok(ctx.thread.cocall(target, out, 4, inb, 2)), 2);
  });
  await space.shutdown();
});

test('the loop form: `yield reply` answers the previous caller and takes the next call', async (t) => {
  const space = AddressSpace.create();
  const seen: number[] = [];
  space.spawn({
    name: 'counter',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      ok(ctx.thread.coregister('counter'));
      const inbuf = ok(ctx.malloc(64));
      const outbuf = ok(ctx.malloc(64));
      const m = ctx.machine;
      await ctx.thread.coaccept(function* (): Generator<number, void, IncomingCall> {
        let reply = 0;
        let count = 0;
        for (;;) {
          const call = yield reply;
          count++;
          seen.push(call.length);
          m.storeU32(outbuf, 0, count);
          reply = 4;
        }
      }, { inbuf, outbuf });
    },
  });
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    const target = ok(ctx.thread.colookup('counter'));
    const { out, inb } = buffers(ctx);
    for (let i = 1; i <= 3; i++) {
      t.is(ok(ctx.thread.cocall(target, out, 16 * i, inb, 16)), 4);
      t.is(ctx.machine.loadU32(inb, 0), i);
    }
  });
  t.deepEqual(seen, [16, 32, 48]);
  await space.shutdown();
});

test('errno: EINVAL without cosetup, for bad targets, NULL buffers and misalignment', async (t) => {
  const space = AddressSpace.create();
  space.spawn(echoService('echo'));
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    const target = ok(ctx.thread.colookup('echo'));
    const { out, inb } = buffers(ctx);
    t.is(errTag(ctx.thread.cocall(target, out, 16, inb, 16)), 'EINVAL'); // no cosetup yet
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    t.is(errTag(ctx.thread.cosetup(7)), 'EINVAL');
    const m = ctx.machine;
    t.is(errTag(ctx.thread.cocall(m.clearTag(target), out, 16, inb, 16)), 'EINVAL'); // untagged
    t.is(errTag(ctx.thread.cocall(out, out, 16, inb, 16)), 'EINVAL'); // unsealed
    const forged = Object.create(Object.getPrototypeOf(target) as object) as Capability;
    t.is(errTag(ctx.thread.cocall(forged, out, 16, inb, 16)), 'EINVAL');
    t.is(errTag(ctx.thread.cocall(target, m.clearTag(out), 16, inb, 16)), 'EINVAL'); // NULL-ish buffer
    t.is(errTag(ctx.thread.cocall(target, m.incOffset(out, 8n), 16, inb, 16)), 'EINVAL'); // unaligned
    t.is(errTag(ctx.thread.cocall(target, out, -1, inb, 16)), 'EINVAL');
    // A zero-length call may use NULL buffers.
    t.is(ok(ctx.thread.cocall(target, m.clearTag(out), 0, m.clearTag(inb), 0)), 0);
  });
  await space.shutdown();
});

test('errno: EFAULT when a buffer does not grant the bytes or the permission', async (t) => {
  const space = AddressSpace.create();
  space.spawn(echoService('echo'));
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    const target = ok(ctx.thread.colookup('echo'));
    const { out, inb } = buffers(ctx);
    const m = ctx.machine;
    t.is(errTag(ctx.thread.cocall(target, out, 512, inb, 16)), 'EFAULT'); // beyond bounds
    t.is(errTag(ctx.thread.cocall(target, m.andPerm(out, Perm.STORE), 16, inb, 16)), 'EFAULT');
    t.is(errTag(ctx.thread.cocall(target, out, 16, m.andPerm(inb, Perm.LOAD), 16)), 'EFAULT');
  });
  await space.shutdown();
});

test('errno: EAGAIN before the callee accepts, ENOLINK after it exits', async (t) => {
  const space = AddressSpace.create();
  let serviceTarget: Capability | undefined;
  const service = space.spawn({
    name: 'late',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      serviceTarget = ok(ctx.thread.coregister('late'));
      await ctx.thread.yield();
      await ctx.thread.yield();
      // Never accepts; exits instead.
    },
  });
  await withClient(space, async (ctx) => {
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    await ctx.thread.yield();
    const { out, inb } = buffers(ctx);
    t.is(errTag(ctx.thread.cocall(serviceTarget!, out, 16, inb, 16)), 'EAGAIN');
    await service.exited;
    t.is(errTag(ctx.thread.cocall(serviceTarget!, out, 16, inb, 16)), 'ENOLINK');
    // Its name is gone too.
    t.is(errTag(ctx.thread.colookup('late')), 'ESRCH');
  });
  await space.shutdown();
});

test('errno: EPROTOTYPE on a fast/slow mismatch, and the slow path works end to end', async (t) => {
  const space = AddressSpace.create();
  space.spawn({
    name: 'slowsvc',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      ok(ctx.thread.coregister('slowsvc'));
      const inbuf = ok(ctx.malloc(64));
      const outbuf = ok(ctx.malloc(64));
      await ctx.thread.coacceptSlow((call) => {
        t.true(call.slow);
        ctx.machine.storeU32(outbuf, 0, 7);
        return 4;
      }, { inbuf, outbuf });
    },
  });
  space.spawn(echoService('fastsvc'));
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    await ctx.thread.yield();
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    const { out, inb } = buffers(ctx);
    const slow = ok(ctx.thread.colookup('slowsvc'));
    const fast = ok(ctx.thread.colookup('fastsvc'));
    t.is(errTag(ctx.thread.cocall(slow, out, 16, inb, 16)), 'EPROTOTYPE');
    t.is(errTag(ctx.thread.cocallSlow(fast, out, 16, inb, 16)), 'EPROTOTYPE');
    t.is(ok(ctx.thread.cocallSlow(slow, out, 16, inb, 16)), 4);
    t.is(ctx.machine.loadU32(inb, 0), 7);
  });
  await space.shutdown();
});

test('coregister/colookup: ESRCH, EEXIST, EINVAL, ENAMETOOLONG', async (t) => {
  const space = AddressSpace.create();
  await withClient(space, (ctx) => {
    t.is(errTag(ctx.thread.colookup('nobody')), 'ESRCH');
    ok(ctx.thread.coregister('me'));
    t.is(errTag(ctx.thread.coregister('')), 'EINVAL');
    t.is(errTag(ctx.thread.coregister('x'.repeat(1024))), 'ENAMETOOLONG');
    t.is(errTag(ctx.thread.colookup('')), 'EINVAL');
    // A second thread cannot take a name in use.
    let dup = '';
    ctx.spawnThread('dup', (th) => {
      dup = errTag(th.coregister('me'));
    });
    return ctx.thread
      .yield()
      .then(() => ctx.thread.yield())
      .then(() => {
        t.is(dup, 'EEXIST');
      });
  });
  await space.shutdown();
});

test('waiting for a target that never accepts ends in ETIMEDOUT, or EDEADLK when waiting forever', async (t) => {
  const space = AddressSpace.create();
  space.spawn({
    name: 'idle',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      ok(ctx.thread.coregister('idle'));
      await ctx.thread.sleep(10_000);
    },
  });
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    const target = ok(ctx.thread.colookup('idle'));
    const before = ctx.now();
    t.is(errTag(await ctx.thread.waitForTarget(target, 250)), 'ETIMEDOUT');
    t.is(ctx.now() - before, 250); // virtual time: exact and instant
  });
  const space2 = AddressSpace.create();
  space2.spawn({
    name: 'stuck',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      ok(ctx.thread.coregister('stuck'));
      const target = ok(ctx.thread.colookup('stuck'));
      // Waits forever on itself: nothing can ever wake it.
      t.is(errTag(await ctx.thread.waitForTarget(target, -1)), 'EDEADLK');
    },
  });
  await space2.run();
  await space.shutdown();
});

test('EDEADLK instead of a hang when a callee calls back into a busy caller chain', async (t) => {
  const space = AddressSpace.create();
  let result = '';
  space.spawn({
    name: 'loopback',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      ok(ctx.thread.cosetup(COSETUP_COCALL));
      const self = ok(ctx.thread.coregister('loopback'));
      const inbuf = ok(ctx.malloc(64));
      const outbuf = ok(ctx.malloc(64));
      await ctx.thread.coaccept(() => {
        // Calling our own (busy) target from inside the call.
        result = errTag(ctx.thread.cocall(self, outbuf, 16, inbuf, 16));
        return 0;
      }, { inbuf, outbuf });
    },
  });
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    const { out, inb } = buffers(ctx);
    t.is(ok(ctx.thread.cocall(ok(ctx.thread.colookup('loopback')), out, 16, inb, 16)), 0);
  });
  t.is(result, 'EDEADLK');
  await space.shutdown();
});

test("a thread cannot use another thread's cosetup pair", async (t) => {
  const space = AddressSpace.create();
  space.spawn(echoService('echo'));
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    const mine = ok(ctx.thread.cosetup(COSETUP_COCALL));
    const target = ok(ctx.thread.colookup('echo'));
    const { out, inb } = buffers(ctx);
    t.is(ok(ctx.thread.cocallWith(mine, target, out, 16, inb, 16)), 16);
    let stolen = '';
    ctx.spawnThread('thief', (th: CoThread) => {
      ok(th.cosetup(COSETUP_COCALL));
      stolen = errTag(th.cocallWith(mine, target, out, 16, inb, 16));
    });
    await ctx.thread.yield();
    await ctx.thread.yield();
    t.is(stolen, 'EINVAL');
    // The pair is sealed: it cannot be dereferenced or modified either.
    t.false(ctx.machine.setAddress(mine.data, 0n).tag);
    t.true(E.isLeft(ctx.machine.attempt((m) => m.load(mine.data, 0, 4))));
  });
  await space.shutdown();
});

test('isolation: a co-process reaches only its grants and cannot unseal a target', async (t) => {
  const space = AddressSpace.create();
  space.spawn(echoService('echo'));
  let victim: Capability | undefined;
  space.spawn({
    name: 'victim',
    main: (ctx) => {
      victim = ok(ctx.malloc(64));
      ctx.machine.store(victim, 0, Uint8Array.of(0x5e, 0xc2));
    },
  });
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    await ctx.thread.yield();
    const mine = ok(ctx.malloc(64));
    const m = ctx.machine;
    t.is(Number(mine.length), 64);
    // Out of bounds and widening are refused.
    t.true(E.isLeft(m.attempt((mm) => mm.load(mine, 64, 1))));
    t.false(m.setBounds(mine, 128n).tag);
    // Moving the address onto someone else's memory keeps our bounds: no access.
    const aimed = m.setAddress(mine, victim!.address);
    t.true(E.isLeft(m.attempt((mm) => mm.load(aimed, 0, 1))));
    // A target is sealed with a kernel otype that no user type manager covers.
    const target = ok(ctx.thread.colookup('echo'));
    t.true(target.sealed);
    t.true(target.otype >= 0x20000);
    t.true(E.isLeft(m.attempt((mm) => mm.load(target, 0, 1))));
    t.false(m.unseal(target, mine).tag);
    // Fresh memory is zeroed and carries no tags.
    t.deepEqual([...m.load(mine, 0, 16)], new Array(16).fill(0));
    t.false(m.loadCap(mine, 0).tag);
  });
  await space.shutdown();
});

test('capabilities inside buffers keep their tags (default) or lose them (stripTags)', async (t) => {
  for (const stripTags of [false, true]) {
    const space = AddressSpace.create({ stripTags });
    let received: Capability | undefined;
    space.spawn({
      name: 'keeper',
      main: async (ctx) => {
        ok(ctx.thread.cosetup(COSETUP_COACCEPT));
        ok(ctx.thread.coregister('keeper'));
        const inbuf = ok(ctx.malloc(64));
        const outbuf = ok(ctx.malloc(64));
        await ctx.thread.coaccept(() => {
          received = ctx.machine.loadCap(inbuf, 16);
          ctx.machine.storeCap(outbuf, 0, ctx.machine.andPerm(inbuf, Perm.LOAD | Perm.GLOBAL));
          return 16;
        }, { inbuf, outbuf });
      },
    });
    await withClient(space, async (ctx) => {
      await ctx.thread.yield();
      ok(ctx.thread.cosetup(COSETUP_COCALL));
      const { out, inb } = buffers(ctx);
      const gift = ok(ctx.malloc(32));
      ctx.machine.storeCap(out, 16, gift);
      t.is(ok(ctx.thread.cocall(ok(ctx.thread.colookup('keeper')), out, 32, inb, 16)), 16);
      const back = ctx.machine.loadCap(inb, 0);
      t.is(back.tag, !stripTags, `reply tag, stripTags=${stripTags}`);
      t.is(received!.tag, !stripTags, `request tag, stripTags=${stripTags}`);
      t.is(received!.address, gift.address);
    });
    await space.shutdown();
  }
});

test('a capability cannot be smuggled into a callee buffer that lacks STORE_CAP', async (t) => {
  const space = AddressSpace.create();
  space.spawn({
    name: 'nocaps',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      ok(ctx.thread.coregister('nocaps'));
      const inbuf = ok(ctx.malloc(64, PermSet.DATA & ~Perm.STORE_CAP));
      const outbuf = ok(ctx.malloc(64));
      await ctx.thread.coaccept(() => 0, { inbuf, outbuf });
    },
  });
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    const { out, inb } = buffers(ctx);
    ctx.machine.storeCap(out, 0, out);
    t.is(errTag(ctx.thread.cocall(ok(ctx.thread.colookup('nocaps')), out, 16, inb, 16)), 'EFAULT');
    // Plain data still goes through.
    ctx.machine.store(out, 0, new Uint8Array(16));
    t.is(ok(ctx.thread.cocall(ok(ctx.thread.colookup('nocaps')), out, 16, inb, 16)), 0);
  });
  await space.shutdown();
});

test('cookies distinguish callers and cogetpid names their pid', async (t) => {
  const space = AddressSpace.create();
  const pids = new Map<number, number>(); // caller pid (as seen) -> calls
  space.spawn(
    echoService('echo', (call, ctx) => {
      const pid = ok(ctx.thread.cogetpid(call.cookie));
      pids.set(pid, (pids.get(pid) ?? 0) + 1);
    }),
  );
  const clientPids: number[] = [];
  for (let i = 0; i < 3; i++) {
    space.spawn({
      name: `c${i}`,
      main: async (ctx) => {
        clientPids.push(ctx.pid);
        await ctx.thread.yield();
        ok(ctx.thread.cosetup(COSETUP_COCALL));
        const { out, inb } = buffers(ctx);
        for (let k = 0; k <= i; k++) ok(ctx.thread.cocall(ok(ctx.thread.colookup('echo')), out, 16, inb, 16));
      },
    });
  }
  await space.run();
  t.deepEqual([...pids.entries()].sort((a, b) => a[0] - b[0]), clientPids.map((p, i) => [p, i + 1] as [number, number]));
  await space.shutdown();
});

test('cogetpid rejects forged and unknown cookies', async (t) => {
  const space = AddressSpace.create();
  await withClient(space, (ctx) => {
    const mine = ok(ctx.malloc(16));
    t.is(errTag(ctx.thread.cogetpid(ctx.machine.clearTag(mine))), 'ESRCH');
    t.is(errTag(ctx.thread.cogetpid({} as Capability)), 'EINVAL');
  });
  await space.shutdown();
});

test('a callee that throws dies (SIGPROT-style) and its caller gets ENOLINK', async (t) => {
  const space = AddressSpace.create();
  const svc = space.spawn({
    name: 'crashy',
    main: async (ctx) => {
      ok(ctx.thread.cosetup(COSETUP_COACCEPT));
      ok(ctx.thread.coregister('crashy'));
      const inbuf = ok(ctx.malloc(64));
      const outbuf = ok(ctx.malloc(64));
      await ctx.thread.coaccept(() => {
        ctx.machine.load(inbuf, 4096, 1); // out of bounds: a capability fault
        return 0;
      }, { inbuf, outbuf });
    },
  });
  await withClient(space, async (ctx) => {
    await ctx.thread.yield();
    ok(ctx.thread.cosetup(COSETUP_COCALL));
    const { out, inb } = buffers(ctx);
    const target = ok(ctx.thread.colookup('crashy'));
    t.is(errTag(ctx.thread.cocall(target, out, 16, inb, 16)), 'ENOLINK');
    t.is(errTag(ctx.thread.cocall(target, out, 16, inb, 16)), 'ENOLINK');
  });
  const status = await svc.exited;
  t.is(status.reason, 'fault');
  await space.shutdown();
});

test('capv: inherited by coexecve, replaced by coexecvec, grown by capvset', async (t) => {
  const space = AddressSpace.create();
  const seen: Record<string, number> = {};
  space.spawn({
    name: 'parent',
    main: async (ctx) => {
      const a = ok(ctx.malloc(16));
      ok(ctx.capvset(3, a));
      t.is(ctx.capv.length, 4);
      const inherit = ctx.coexecve({ name: 'inherit', main: (c) => void (seen.inherit = c.capv.length) });
      const replace = ctx.coexecvec({ name: 'replace', main: (c) => void (seen.replace = c.capv.length) }, undefined, [a]);
      await inherit.exited;
      await replace.exited;
      t.is(errTag(ctx.capvset(-1, a)), 'EINVAL');
    },
  });
  await space.run();
  t.deepEqual(seen, { inherit: 4, replace: 1 });
  await space.shutdown();
});

test('exit codes and fault exits are reported', async (t) => {
  const space = AddressSpace.create();
  const a = space.spawn({ name: 'a', main: () => 3 });
  const b = space.spawn({ name: 'b', main: (ctx) => ctx.exit(5) });
  const c = space.spawn({ name: 'c', main: () => { throw new Error('boom'); } });
  await space.run();
  t.like(await a.exited, { code: 3, reason: 'returned' });
  t.like(await b.exited, { code: 5, reason: 'exit' });
  t.like(await c.exited, { reason: 'fault' });
  t.true(space.processes().every((p) => p.state === 'exited'));
});

test('property: N callers on one target are serialized, whatever the interleaving', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 6 }), async (seed, callers, rounds) => {
      const space = AddressSpace.create({ seed });
      let inside = 0;
      let overlaps = 0;
      let served = 0;
      space.spawn({
        name: 'svc',
        main: async (ctx) => {
          ok(ctx.thread.cosetup(COSETUP_COACCEPT));
          ok(ctx.thread.coregister('svc'));
          const inbuf = ok(ctx.malloc(64));
          const outbuf = ok(ctx.malloc(64));
          await ctx.thread.coaccept((call) => {
            inside++;
            if (inside > 1) overlaps++;
            served++;
            ctx.machine.copy(outbuf, 0, inbuf, 0, call.length);
            inside--;
            return call.length;
          }, { inbuf, outbuf });
        },
      });
      let good = 0;
      for (let c = 0; c < callers; c++) {
        space.spawn({
          name: `caller${c}`,
          main: async (ctx) => {
            ok(ctx.thread.cosetup(COSETUP_COCALL));
            const { out, inb } = buffers(ctx);
            for (let r = 0; r < rounds; r++) {
              const target = ctx.thread.colookup('svc');
              if (E.isLeft(target)) {
                await ctx.thread.yield();
                r--;
                continue;
              }
              ctx.machine.storeU32(out, 0, ctx.pid * 1000 + r);
              const n = ctx.thread.cocall(target.right, out, 16, inb, 16);
              if (E.isLeft(n)) {
                if (n.left._tag !== 'EAGAIN') throw new Error(n.left.message);
                ok(await ctx.thread.waitForTarget(target.right, 1000));
                r--;
                continue;
              }
              if (ctx.machine.loadU32(inb, 0) === ctx.pid * 1000 + r) good++;
              await ctx.thread.yield();
            }
          },
        });
      }
      await space.run();
      await space.shutdown();
      return overlaps === 0 && served === callers * rounds && good === callers * rounds;
    }),
    { numRuns: 40 },
  );
  t.pass();
});

test('the same seed replays the same interleaving', async (t) => {
  async function trace(seed: number): Promise<string[]> {
    const space = AddressSpace.create({ seed });
    const log: string[] = [];
    for (let i = 0; i < 4; i++) {
      space.spawn({
        name: `p${i}`,
        main: async (ctx) => {
          for (let k = 0; k < 3; k++) {
            log.push(`${i}.${k}`);
            await ctx.thread.yield();
          }
        },
      });
    }
    await space.run();
    return log;
  }
  const a = await trace(1234);
  t.deepEqual(await trace(1234), a);
  const others = await Promise.all([1, 2, 3, 4, 5].map(trace));
  t.true(others.some((o) => o.join() !== a.join()), 'different seeds explore different orders');
});
