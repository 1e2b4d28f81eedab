/**
 * Co-process programs for the runtime-parameterised switcher suite. They are modules (not
 * closures) so a worker thread can load them; they report what they observe by printing one
 * JSON line per observation, which the test reads back.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  COSETUP_COACCEPT,
  COSETUP_COCALL,
  Perm,
  type Capability,
  type CoProcessApi,
  type IncomingCall,
  type SysError,
} from '../../src/index.js';

export function ok<T>(e: E.Either<SysError, T>): T {
  if (E.isLeft(e)) throw new Error(`unexpected ${e.left._tag}: ${e.left.message}`);
  return e.right;
}
const tag = <T>(e: E.Either<SysError, T>): string => (E.isLeft(e) ? e.left._tag : 'ok');
export const report = (ctx: CoProcessApi, what: string, value: unknown): void => ctx.print(JSON.stringify({ what, value }));

/** Find a registered service, waiting (bounded) until it is in coaccept. */
export async function lookup(ctx: CoProcessApi, name: string): Promise<Capability> {
  for (let i = 0; i < 5000; i++) {
    const t = ctx.thread.colookup(name);
    if (E.isRight(t)) {
      ok(await ctx.thread.waitForTarget(t.right, 10_000));
      return t.right;
    }
    await ctx.thread.sleep(2);
  }
  throw new Error(`service ${name} never registered`);
}

function serviceName(ctx: CoProcessApi, fallback: string): string {
  return ctx.argv[1] ?? fallback;
}

/** Echo: the request back with byte 0 incremented. argv[1] names it (default "echo"). */
export async function echo(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  ok(ctx.thread.coregister(serviceName(ctx, 'echo')));
  const inbuf = ok(ctx.malloc(256));
  const outbuf = ok(ctx.malloc(256));
  await ctx.thread.coaccept((call: IncomingCall) => {
    ctx.machine.copy(outbuf, 0, inbuf, 0, call.length);
    const b = ctx.machine.load(inbuf, 0, 1);
    ctx.machine.store(outbuf, 0, Uint8Array.of((b[0]! + 1) & 0xff));
    return call.length;
  }, { inbuf, outbuf });
}

/** The same echo, serving only cocall_slow. */
export async function slowEcho(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  ok(ctx.thread.coregister(serviceName(ctx, 'slow-echo')));
  const inbuf = ok(ctx.malloc(256));
  const outbuf = ok(ctx.malloc(256));
  await ctx.thread.coacceptSlow((call: IncomingCall) => {
    ctx.machine.copy(outbuf, 0, inbuf, 0, call.length);
    ctx.machine.storeU32(outbuf, 0, ok(ctx.thread.cogetpid(call.cookie)));
    return Math.max(call.length, 4);
  }, { inbuf, outbuf });
}

/** Answers with the caller's pid (cogetpid on the cookie). */
export async function whoami(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  ok(ctx.thread.coregister('whoami'));
  const inbuf = ok(ctx.malloc(64));
  const outbuf = ok(ctx.malloc(64));
  await ctx.thread.coaccept((call: IncomingCall) => {
    ctx.machine.storeU32(outbuf, 0, ok(ctx.thread.cogetpid(call.cookie)));
    return 4;
  }, { inbuf, outbuf });
}

/** Loads the capability the caller sent at offset 0 and sends it back, narrowed to 16 bytes. */
export async function capEcho(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  ok(ctx.thread.coregister('cap-echo'));
  const inbuf = ok(ctx.malloc(64));
  const outbuf = ok(ctx.malloc(64));
  await ctx.thread.coaccept((call: IncomingCall) => {
    const got = ctx.machine.loadCap(inbuf, 0);
    ctx.machine.storeU32(outbuf, 16, got.tag ? 1 : 0);
    if (got.tag) {
      ctx.machine.store(got, 0, Uint8Array.of(0xab)); // write through the received capability
      ctx.machine.storeCap(outbuf, 0, ctx.machine.setBounds(got, 16n));
    }
    return Math.max(call.length, 32);
  }, { inbuf, outbuf });
}

/** Faults (throws) on a request whose first byte is 0xff; echoes otherwise. */
export async function fragile(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  ok(ctx.thread.coregister('fragile'));
  const inbuf = ok(ctx.malloc(64));
  const outbuf = ok(ctx.malloc(64));
  await ctx.thread.coaccept((call: IncomingCall) => {
    if (ctx.machine.load(inbuf, 0, 1)[0] === 0xff) ctx.machine.load(inbuf, 4096, 1); // out of bounds: a capability fault
    ctx.machine.copy(outbuf, 0, inbuf, 0, call.length);
    return call.length;
  }, { inbuf, outbuf });
}

/** Registers, then never accepts: callers see EAGAIN. */
export async function lazy(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  ok(ctx.thread.coregister('lazy'));
  await ctx.thread.sleep(60_000);
}

/** Serves one slow call per request by spinning `argv[1]` ms before answering. */
export async function sluggish(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  ok(ctx.thread.coregister('sluggish'));
  const inbuf = ok(ctx.malloc(64));
  const outbuf = ok(ctx.malloc(64));
  const ms = Number(ctx.argv[1] ?? '500');
  await ctx.thread.coaccept(() => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      /* a busy callee */
    }
    return 0;
  }, { inbuf, outbuf });
}

/** Client: the basic copy semantics and the error cases every runtime must agree on. */
export async function basics(ctx: CoProcessApi): Promise<number> {
  const out = ok(ctx.malloc(256));
  const inb = ok(ctx.malloc(256));
  const echoT = await lookup(ctx, 'echo');
  report(ctx, 'nocosetup', tag(ctx.thread.cocall(echoT, out, 4, inb, 256)));
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  ctx.machine.store(out, 0, Uint8Array.from([41, 2, 3, 4]));
  const n = ok(ctx.thread.cocall(echoT, out, 4, inb, 256));
  report(ctx, 'echo', { n, bytes: [...ctx.machine.load(inb, 0, 4)] });
  const short = ok(ctx.thread.cocall(echoT, out, 4, inb, 2));
  report(ctx, 'truncated', short);
  report(ctx, 'unknown', tag(ctx.thread.colookup('no-such-service')));
  report(ctx, 'untagged', tag(ctx.thread.cocall(ctx.machine.clearTag(echoT), out, 4, inb, 256)));
  report(ctx, 'notarget', tag(ctx.thread.cocall(out, out, 4, inb, 256)));
  report(ctx, 'noload', tag(ctx.thread.cocall(echoT, ctx.machine.andPerm(out, Perm.STORE), 4, inb, 256)));
  report(ctx, 'nostore', tag(ctx.thread.cocall(echoT, out, 4, ctx.machine.andPerm(inb, Perm.LOAD), 256)));
  report(ctx, 'slow-to-fast', tag(ctx.thread.cocallSlow(echoT, out, 4, inb, 256)));
  const lazyT = await lookupRegistered(ctx, 'lazy');
  report(ctx, 'not-accepting', tag(ctx.thread.cocall(lazyT, out, 4, inb, 256)));
  const slowT = await lookup(ctx, 'slow-echo');
  report(ctx, 'fast-to-slow', tag(ctx.thread.cocall(slowT, out, 4, inb, 256)));
  ctx.machine.store(out, 0, Uint8Array.from([9, 9, 9, 9, 7, 7]));
  const sn = ok(ctx.thread.cocallSlow(slowT, out, 6, inb, 256));
  report(ctx, 'slow', { n: sn, pid: ctx.machine.loadU32(inb, 0), self: ctx.pid, tail: [...ctx.machine.load(inb, 4, 2)] });
  const who = await lookup(ctx, 'whoami');
  ok(ctx.thread.cocall(who, out, 0, inb, 64));
  report(ctx, 'cogetpid', ctx.machine.loadU32(inb, 0) === ctx.pid);
  return 0;
}

async function lookupRegistered(ctx: CoProcessApi, name: string): Promise<Capability> {
  for (let i = 0; i < 5000; i++) {
    const t = ctx.thread.colookup(name);
    if (E.isRight(t)) return t.right;
    await ctx.thread.sleep(2);
  }
  throw new Error(`service ${name} never registered`);
}

/** Client: a capability in the request keeps its tag; the callee can use it; one comes back. */
export async function capabilities(ctx: CoProcessApi): Promise<number> {
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  const out = ok(ctx.malloc(64));
  const inb = ok(ctx.malloc(64));
  const shared = ok(ctx.malloc(64));
  const t = await lookup(ctx, 'cap-echo');
  ctx.machine.storeCap(out, 0, shared);
  const n = ok(ctx.thread.cocall(t, out, 16, inb, 64));
  const back = ctx.machine.loadCap(inb, 0);
  report(ctx, 'cap', {
    n,
    calleeSawTag: ctx.machine.loadU32(inb, 16),
    written: ctx.machine.load(shared, 0, 1)[0],
    backTag: back.tag,
    backLength: Number(back.length),
    sameBase: back.base === shared.base,
  });
  // Bytes that merely look like a capability carry no tag.
  ctx.machine.store(out, 0, ctx.machine.load(out, 0, 16));
  ok(ctx.thread.cocall(t, out, 16, inb, 64));
  report(ctx, 'forged', ctx.machine.loadU32(inb, 16));
  return 0;
}

/** Client: calls `fragile` fine, then makes it fault; then checks another service still answers. */
export async function faulting(ctx: CoProcessApi): Promise<number> {
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  const out = ok(ctx.malloc(64));
  const inb = ok(ctx.malloc(64));
  const t = await lookup(ctx, 'fragile');
  ctx.machine.store(out, 0, Uint8Array.of(1, 2));
  report(ctx, 'before', tag(ctx.thread.cocall(t, out, 2, inb, 64)));
  ctx.machine.store(out, 0, Uint8Array.of(0xff));
  report(ctx, 'fault', tag(ctx.thread.cocall(t, out, 1, inb, 64)));
  report(ctx, 'after', tag(ctx.thread.cocall(t, out, 1, inb, 64)));
  const e = await lookup(ctx, 'echo');
  ctx.machine.store(out, 0, Uint8Array.of(5));
  ok(ctx.thread.cocall(e, out, 1, inb, 64));
  report(ctx, 'others', ctx.machine.load(inb, 0, 1)[0]);
  return 0;
}

/**
 * Client: `argv[1]` calls to echo, each with its own pattern, checking every reply (several
 * of these run at once against one service).
 */
export async function hammer(ctx: CoProcessApi): Promise<number> {
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  const out = ok(ctx.malloc(64));
  const inb = ok(ctx.malloc(64));
  const t = await lookup(ctx, 'echo');
  const calls = Number(ctx.argv[1] ?? '1000');
  let good = 0;
  let sum = 0;
  for (let i = 0; i < calls; i++) {
    const word = (ctx.pid * 65599 + i * 2654435761) >>> 0;
    ctx.machine.storeU32(out, 0, word & ~0xff);
    ctx.machine.storeU32(out, 4, ctx.pid);
    ctx.machine.storeU32(out, 8, i);
    const n = ctx.thread.cocall(t, out, 12, inb, 64);
    if (E.isRight(n) && n.right === 12 && ctx.machine.loadU32(inb, 0) === ((word & ~0xff) | 1) >>> 0 && ctx.machine.loadU32(inb, 4) === ctx.pid && ctx.machine.loadU32(inb, 8) === i) good++;
    sum = (sum + i) >>> 0;
    if (i % 64 === 0) await ctx.thread.yield();
  }
  report(ctx, 'hammer', { pid: ctx.pid, good, calls, sum });
  return 0;
}

/** Client: one call that is still running when its callee dies or times out. */
export async function stuck(ctx: CoProcessApi): Promise<number> {
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  const out = ok(ctx.malloc(64));
  const inb = ok(ctx.malloc(64));
  const t = await lookup(ctx, 'sluggish');
  report(ctx, 'calling', true);
  const started = ctx.now();
  const r = ctx.thread.cocall(t, out, 1, inb, 64);
  report(ctx, 'stuck', { tag: tag(r), returned: ctx.now() >= started });
  return 0;
}

/** Serves by forwarding each request to `echo` and answering with its reply: a nested cocall. */
export async function relay(ctx: CoProcessApi): Promise<void> {
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  ok(ctx.thread.cosetup(COSETUP_COACCEPT));
  const echoT = await lookup(ctx, 'echo');
  ok(ctx.thread.coregister('relay'));
  const inbuf = ok(ctx.malloc(64));
  const outbuf = ok(ctx.malloc(64));
  await ctx.thread.coaccept((call: IncomingCall) => ok(ctx.thread.cocall(echoT, inbuf, call.length, outbuf, 64)), { inbuf, outbuf });
}

/** Client for the trace test: a nested call, a slow call, a refused call, a capability argument. */
export async function traced(ctx: CoProcessApi): Promise<number> {
  ok(ctx.thread.cosetup(COSETUP_COCALL));
  const out = ok(ctx.malloc(64));
  const inb = ok(ctx.malloc(64));
  const relayT = await lookup(ctx, 'relay');
  const slowT = await lookup(ctx, 'slow-echo');
  const lazyT = await lookupRegistered(ctx, 'lazy');
  const capT = await lookup(ctx, 'cap-echo');
  ctx.machine.store(out, 0, Uint8Array.of(1, 2, 3));
  report(ctx, 'relayed', [...ctx.machine.load(inb, 0, ok(ctx.thread.cocall(relayT, out, 3, inb, 64)))]);
  ctx.machine.store(out, 0, Uint8Array.of(4, 5, 6, 7, 8));
  report(ctx, 'slow', ok(ctx.thread.cocallSlow(slowT, out, 5, inb, 64)));
  report(ctx, 'refused', tag(ctx.thread.cocall(lazyT, out, 3, inb, 64)));
  ctx.machine.storeCap(out, 0, ok(ctx.malloc(32)));
  report(ctx, 'cap', ok(ctx.thread.cocall(capT, out, 16, inb, 64)));
  return 0;
}
