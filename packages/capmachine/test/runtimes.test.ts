/**
 * The switcher suite, run under both runtimes: the same program modules, the same
 * expectations. Threads-only cases (a worker killed or a callee too slow mid-call, shutdown
 * leaving no worker) follow.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import * as E from 'fp-ts/lib/Either.js';
import {
  ThreadedAddressSpace,
  type Capability,
  type CocallTracer,
  createAddressSpace,
  ownedBy,
  type AddressSpaceApi,
  type ExitStatus,
  type RuntimeKind,
} from '../src/index.js';

import { BUSY, DONE, FREE, OTHER_TID, ROBUST } from './programs/robust.js';

const programs = new URL('./programs/switcher.ts', import.meta.url).href;
const prog = (name: string): { module: string; export: string; name: string } => ({ module: programs, export: name, name });

interface Run {
  readonly space: AddressSpaceApi;
  readonly seen: Map<string, unknown[]>;
  readonly lines: string[];
}

/** An address space whose co-processes' JSON report lines are collected by `what`. */
function start(runtime: RuntimeKind, options: { callTimeoutMs?: number } = {}): Run {
  const seen = new Map<string, unknown[]>();
  const lines: string[] = [];
  const space = createAddressSpace({
    runtime,
    ...options,
    stdout: (line) => {
      lines.push(line);
      const r = JSON.parse(line) as { what: string; value: unknown };
      seen.set(r.what, [...(seen.get(r.what) ?? []), r.value]);
    },
  });
  return { space, seen, lines };
}

function first(run: Run, what: string): unknown {
  return run.seen.get(what)?.[0];
}

async function finish(t: ExecutionContext, run: Run, clients: ReadonlyArray<Promise<ExitStatus>>): Promise<ExitStatus[]> {
  const statuses = await Promise.all(clients);
  await run.space.shutdown();
  if (run.space instanceof ThreadedAddressSpace) t.is(run.space.liveWorkers, 0, 'no worker survives shutdown');
  return statuses;
}

const both = test.macro(async (t, runtime: RuntimeKind, body: (t: ExecutionContext, runtime: RuntimeKind) => Promise<void>) => body(t, runtime));

for (const runtime of ['inline', 'threads'] as const) {
  test(`[${runtime}] cocall copies in and out; every error case is a typed error`, both, runtime, async (t, rt) => {
    const run = start(rt);
    run.space.spawn(prog('echo'));
    run.space.spawn(prog('slowEcho'));
    run.space.spawn(prog('lazy'));
    run.space.spawn(prog('whoami'));
    const c = run.space.spawn(prog('basics'));
    const [status] = await finish(t, run, [c.exited]);
    t.like(status, { reason: 'returned', code: 0 }, run.lines.join('\n'));
    t.is(first(run, 'nocosetup'), 'EINVAL');
    t.deepEqual(first(run, 'echo'), { n: 4, bytes: [42, 2, 3, 4] });
    t.is(first(run, 'truncated'), 2);
    t.is(first(run, 'unknown'), 'ESRCH');
    t.is(first(run, 'untagged'), 'EINVAL');
    t.is(first(run, 'notarget'), 'EINVAL');
    t.is(first(run, 'noload'), 'EFAULT');
    t.is(first(run, 'nostore'), 'EFAULT');
    t.is(first(run, 'slow-to-fast'), 'EPROTOTYPE');
    t.is(first(run, 'fast-to-slow'), 'EPROTOTYPE');
    t.is(first(run, 'not-accepting'), 'EAGAIN');
    const slow = first(run, 'slow') as { n: number; pid: number; self: number; tail: number[] };
    t.is(slow.n, 6);
    t.is(slow.pid, slow.self, 'cogetpid through cocall_slow names the caller');
    t.deepEqual(slow.tail, [7, 7]);
    t.is(first(run, 'cogetpid'), true);
  });

  test(`[${runtime}] capabilities in cocall buffers keep their tags; forged bytes do not`, both, runtime, async (t, rt) => {
    const run = start(rt);
    run.space.spawn(prog('capEcho'));
    const c = run.space.spawn(prog('capabilities'));
    const [status] = await finish(t, run, [c.exited]);
    t.like(status, { reason: 'returned', code: 0 }, String(status?.error));
    t.deepEqual(first(run, 'cap'), { n: 32, calleeSawTag: 1, written: 0xab, backTag: true, backLength: 16, sameBase: true }, run.lines.join('\n'));
    t.is(first(run, 'forged'), 0);
  });

  test(`[${runtime}] a callee that faults mid-call: the caller gets ENOLINK, the callee dies, others keep serving`, both, runtime, async (t, rt) => {
    const run = start(rt);
    const fragile = run.space.spawn(prog('fragile'));
    run.space.spawn(prog('echo'));
    const c = run.space.spawn(prog('faulting'));
    const [status] = await Promise.all([c.exited]);
    t.like(status, { reason: 'returned', code: 0 }, String(status?.error));
    const dead = await fragile.exited;
    await finish(t, run, []);
    t.is(first(run, 'before'), 'ok', run.lines.join('\n'));
    t.is(first(run, 'fault'), 'ENOLINK');
    t.is(first(run, 'after'), 'ENOLINK');
    t.is(first(run, 'others'), 6);
    t.is(dead.reason, 'fault');
  });

  test(`[${runtime}] traceCocalls sees every call in order: nesting, slow calls, refusals, capabilities in snapshots`, both, runtime, async (t, rt) => {
    const run = start(rt);
    interface Seen {
      phase: 'enter' | 'exit';
      seq: number;
      slow: boolean;
      caller: number;
      callee: number | undefined;
      head: number[];
      capTag: boolean;
      result?: number | string;
      reply?: number[];
    }
    const log: Seen[] = [];
    const m = run.space.machine;
    const head = (buf: Capability, len: number): number[] => [...m.load(buf, 0, Math.min(len, 4))];
    const tracer: CocallTracer = {
      enter: (c) => log.push({ phase: 'enter', seq: c.seq, slow: c.slow, caller: c.caller.pid, callee: c.callee?.pid, head: head(c.outbuf, c.outlen), capTag: c.outlen >= 16 && m.loadCap(c.outbuf, 0).tag }),
      exit: (c, r) =>
        log.push({
          phase: 'exit',
          seq: c.seq,
          slow: c.slow,
          caller: c.caller.pid,
          callee: c.callee?.pid,
          head: [],
          capTag: false,
          result: E.isRight(r) ? r.right : r.left._tag,
          ...(E.isRight(r) ? { reply: head(c.inbuf, r.right) } : {}),
        }),
    };
    run.space.traceCocalls(tracer);
    const echo = run.space.spawn(prog('echo'));
    const slowEcho = run.space.spawn(prog('slowEcho'));
    const lazy = run.space.spawn(prog('lazy'));
    const capEcho = run.space.spawn(prog('capEcho'));
    const relay = run.space.spawn(prog('relay'));
    const client = run.space.spawn(prog('traced'));
    const status = await client.exited;
    t.like(status, { reason: 'returned', code: 0 }, run.lines.join('\n'));
    run.space.traceCocalls(undefined); // threads: drains what the workers logged
    const traced = log.length;
    await finish(t, run, []);
    t.is(log.length, traced, 'nothing is reported after tracing stops');
    t.deepEqual(first(run, 'relayed'), [2, 2, 3]);

    const calls = log.filter((e) => e.phase === 'enter');
    t.is(calls.length, 5, JSON.stringify(log));
    t.is(log.filter((e) => e.phase === 'exit').length, 5);
    const exitOf = (seq: number) => log.find((e) => e.phase === 'exit' && e.seq === seq)!;
    const at = (e: Seen) => log.indexOf(e);
    const [outer, inner, slow, refused, cap] = calls as [Seen, Seen, Seen, Seen, Seen];
    t.like(outer, { caller: client.pid, callee: relay.pid, slow: false, head: [1, 2, 3] });
    t.like(inner, { caller: relay.pid, callee: echo.pid, head: [1, 2, 3] }, 'the relay forwards while serving');
    t.true(at(inner) > at(outer) && at(exitOf(inner.seq)) < at(exitOf(outer.seq)), 'the nested call is inside the outer one');
    t.like(exitOf(outer.seq), { result: 3, reply: [2, 2, 3] });
    t.like(slow, { caller: client.pid, callee: slowEcho.pid, slow: true, head: [4, 5, 6, 7] });
    t.like(exitOf(slow.seq), { result: 5, reply: [...new Uint8Array(new Uint32Array([client.pid]).buffer)] }, 'cogetpid answered in the reply');
    t.like(refused, { callee: lazy.pid });
    t.like(exitOf(refused.seq), { result: 'EAGAIN' });
    t.like(cap, { callee: capEcho.pid, capTag: true }, 'the snapshot keeps the argument capability');
    t.like(exitOf(cap.seq), { result: 32 });
  });

  test(`[${runtime}] several clients hammering one service: every call answered exactly, none crossed`, both, runtime, async (t, rt) => {
    const run = start(rt);
    run.space.spawn(prog('echo'));
    const calls = 400;
    const clients = [1, 2, 3].map(() => run.space.spawn(prog('hammer'), { argv: ['hammer', String(calls)] }).exited);
    await finish(t, run, clients);
    const results = (run.seen.get('hammer') ?? []) as Array<{ pid: number; good: number; calls: number; sum: number }>;
    t.is(results.length, 3, run.lines.join('\n'));
    for (const r of results) {
      t.is(r.good, calls);
      t.is(r.sum, (calls * (calls - 1)) / 2);
    }
  });
}

test('[threads] a callee killed mid-call: the caller gets ENOLINK in bounded time, not a hang', async (t) => {
  const run = start('threads');
  const slow = run.space.spawn(prog('sluggish'), { argv: ['sluggish', '60000'] });
  const c = run.space.spawn(prog('stuck'));
  // Kill the callee once the caller is inside its call.
  const killed = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (run.seen.has('calling')) {
        clearInterval(poll);
        setTimeout(() => {
          t.true(run.space.kill(slow.pid)._tag === 'Right');
          resolve();
        }, 50);
      }
    }, 5);
  });
  await killed;
  await finish(t, run, [c.exited]);
  t.deepEqual(first(run, 'stuck'), { tag: 'ENOLINK', returned: true });
  t.like(await slow.exited, { reason: 'killed' });
});

test('[threads] a callee slower than the call timeout: ETIMEDOUT, and the callee serves again afterwards', async (t) => {
  const run = start('threads', { callTimeoutMs: 150 });
  run.space.spawn(prog('sluggish'), { argv: ['sluggish', '400'] });
  const c1 = run.space.spawn(prog('stuck'));
  await c1.exited;
  t.is((first(run, 'stuck') as { tag: string }).tag, 'ETIMEDOUT');
  // The abandoned call still completes inside the callee and frees the claim for the next caller.
  const c2 = run.space.spawn(prog('stuck'));
  await c2.exited;
  await finish(t, run, []);
  t.is((run.seen.get('stuck')?.[1] as { tag: string }).tag, 'ETIMEDOUT', 'a 400 ms callee still misses a 150 ms timeout');
  const stats = (run.space as ThreadedAddressSpace).switcherStats();
  t.true(stats.some((s) => s.served >= 1), 'the sluggish service completed the abandoned call');
});

test('[threads] a host that stops draining the trace loses records, counts each one, and never stalls the callers', async (t) => {
  const run = start('threads');
  let delivered = 0;
  let lost = 0;
  run.space.traceCocalls({ enter: () => delivered++, exit: () => delivered++, lost: (n) => (lost += n) });
  run.space.spawn(prog('echo'));
  const calls = 20_000;
  const clients = [1, 2].map(() => run.space.spawn(prog('hammer'), { argv: ['hammer', String(calls)] }).exited);
  // Once the clients are calling, block the host thread (the only drainer): the log fills and,
  // a producer's wait for a slot being bounded, records are dropped. The host stays blocked
  // until the shared log shows a drop (not for a fixed time, which a loaded machine stretches).
  for (let i = 0; delivered === 0 && i < 10_000; i++) await new Promise((r) => setTimeout(r, 1));
  const space = run.space as ThreadedAddressSpace;
  const until = performance.now() + 60_000;
  while (space.traceRecordsLost === 0 && performance.now() < until) {
    /* the host is busy */
  }
  const statuses = await Promise.all(clients);
  run.space.traceCocalls(undefined);
  await finish(t, run, []);
  for (const s of statuses) t.like(s, { reason: 'returned', code: 0 }, String(s.error));
  for (const r of (run.seen.get('hammer') ?? []) as Array<{ good: number }>) t.is(r.good, calls, 'every call answered despite the full log');
  t.true(lost >= 1, `lost ${lost}`);
  t.is(delivered + lost, 2 * 2 * calls, 'each call is an enter and an exit: delivered or counted lost');
});

test('[threads] a program given as a closure is refused: workers load programs by module', (t) => {
  const space = createAddressSpace({ runtime: 'threads' });
  t.throws(() => space.spawn({ main: () => 0 } as never), { instanceOf: TypeError });
});

test('[threads] shutdown with services parked in coaccept leaves no worker running', async (t) => {
  const run = start('threads');
  const handles = ['echo', 'whoami', 'capEcho'].map((p) => run.space.spawn(prog(p)));
  await run.space.run(); // every co-process is parked serving
  const space = run.space as ThreadedAddressSpace;
  t.is(space.liveWorkers, 3);
  await space.shutdown();
  t.is(space.liveWorkers, 0);
  for (const h of handles) t.like(await h.exited, { reason: 'killed' });
});

const inProcess = new URL('./programs/in-process.ts', import.meta.url).href;
const ip = (name: string): { module: string; export: string; name: string } => ({ module: inProcess, export: name, name });

for (const runtime of ['inline', 'threads'] as const) {
  test(`[${runtime}] a co-process's threads serve side by side, share its heap, and leave its main thread free`, both, runtime, async (t, rt) => {
    const run = start(rt);
    run.space.spawn(ip('pool'));
    const c = run.space.spawn(ip('poolClient'));
    await finish(t, run, [c.exited]);
    t.is(first(run, 'pool-main-free'), true, run.lines.join('\n'));
    const { counters, who } = first(run, 'pool') as { counters: number[]; who: number[] };
    t.deepEqual(counters, Array.from({ length: 30 }, (_, i) => i + 1), 'one counter, shared by all three threads');
    t.deepEqual(who, Array.from({ length: 30 }, (_, i) => i % 3), 'each call answered by the thread it targeted');
  });

  test(`[${runtime}] code loaded by one co-process is linked and CInvoked by another`, both, runtime, async (t, rt) => {
    const run = start(rt);
    const key = run.space.mintTypes(1);
    const owner = run.space.spawn(ip('owner'), { capv: [key] });
    const c = run.space.spawn(ip('linker'));
    await finish(t, run, [c.exited]);
    t.deepEqual(first(run, 'link'), { before: rt === 'inline' ? 'linked' : 'CapabilityFault', add: 1023, whose: owner.pid, forged: rt === 'inline' ? 'ok' : 'ENOENT' }, run.lines.join('\n'));
  });
}

const futexPrograms = new URL('./programs/futex.ts', import.meta.url).href;

for (const runtime of ['inline', 'threads'] as const) {
  test(`[${runtime}] futex ping-pong between co-processes: no wake-up is lost, and a sleeping peer is woken`, both, runtime, async (t, rt) => {
    const run = start(rt);
    const block = run.space.allocateShared(16);
    const rounds = 60;
    const spawn = (name: string) => run.space.spawn({ module: futexPrograms, export: name, name }, { argv: [name, String(rounds)], capv: [block] }).exited;
    const statuses = await finish(t, run, [spawn('ponger'), spawn('pinger')]);
    for (const s of statuses) t.like(s, { reason: 'returned', code: 0 }, String(s.error));
    t.deepEqual(first(run, 'ponger'), { lost: 0, quiet: 0 }, run.lines.join('\n'));
    const pinger = first(run, 'pinger') as { woke: number; lost: number };
    t.is(pinger.lost, 0);
    // Six rounds paused 30 ms first; a wake that found its peer asleep reports it woke one.
    t.true(pinger.woke >= 1, `woke ${pinger.woke}`);
    t.is(run.space.machine.loadI32(block, 0), rounds);
  });
}

for (const runtime of ['inline', 'threads'] as const) {
  test(`[${runtime}] exited co-processes' memory is reclaimed: a small heap serves more of them than fit at once`, both, runtime, async (t, rt) => {
    const lines: string[] = [];
    // 3 MiB of heap; six co-processes in turn take 1 MiB each and exit.
    const space = createAddressSpace({ runtime: rt, memoryBytes: 4 << 20, stdout: (l) => lines.push(l) });
    try {
      for (let i = 0; i < 6; i++) {
        const s = await space.spawn(ip('grabber'), { argv: ['grabber', String(1 << 20)] }).exited;
        t.like(s, { reason: 'returned', code: 0 }, String(s.error));
      }
      t.deepEqual(lines.map((l) => (JSON.parse(l) as { value: unknown }).value), Array(6).fill('ok'), lines.join('\n'));
    } finally {
      await space.shutdown();
    }
  });
}

for (const runtime of ['inline', 'threads'] as const) {
  test(`[${runtime}] spinWhile sees another thread's write while it polls on threads, and answers no at once inline`, both, runtime, async (t, rt) => {
    const run = start(rt);
    const block = run.space.allocateShared(16);
    const spawn = (name: string) => run.space.spawn({ module: futexPrograms, export: name, name }, { argv: [name], capv: [block] }).exited;
    const statuses = await finish(t, run, [spawn('spinner'), spawn('setter')]);
    for (const s of statuses) t.like(s, { reason: 'returned', code: 0 }, String(s.error));
    const threads = rt === 'threads';
    t.deepEqual(first(run, 'spinner'), { preemptible: threads, saw: threads, value: threads ? 1 : 0 }, run.lines.join('\n'));
  });
}

const robustPrograms = new URL('./programs/robust.ts', import.meta.url).href;

for (const [runtime, form] of [['inline', 'capability'], ['threads', 'capability'], ['inline', 'word'], ['threads', 'word']] as const) {
  test(`[${runtime}] robust words (${form === 'word' ? "a window's RobustWord" : 'capability and offset'}): a thread that dies owning one hands it back and wakes its waiters; words it does not own are left alone`, both, runtime, async (t, rt) => {
    const run = start(rt);
    const m = run.space.machine;
    const block = run.space.allocateShared(ROBUST.BYTES);
    const other = ownedBy(BUSY, OTHER_TID);
    m.storeI32(block, ROBUST.OWNED, FREE);
    m.storeI32(block, ROBUST.FOREIGN, other);
    m.storeI32(block, ROBUST.LEFT, FREE);
    m.storeI32(block, ROBUST.HANDED, other);
    const spawn = (name: string) => run.space.spawn({ module: robustPrograms, export: name, name }, { argv: [name, form], capv: [block] });
    const waiter = spawn('waiter');
    const holder = spawn('holder');
    t.true(await run.space.waitWord(block, ROBUST.READY, 0, 20_000), 'the holder took its word');
    // Its report travels by message (threads), the READY word through memory: wait for both.
    for (let i = 0; i < 2_000 && first(run, 'holder') === undefined; i++) await new Promise((r) => setTimeout(r, 5));
    const h = first(run, 'holder') as { tid: number; slots: number[]; overflow: number; capacity: number };
    t.deepEqual(h.slots, [0, 1, 2, 3], 'a slot left is reused');
    t.is(h.overflow, -1, `at most ${h.capacity} registrations at once`);
    t.is(m.loadI32(block, ROBUST.OWNED), ownedBy(BUSY, h.tid));
    t.is(m.loadI32(block, ROBUST.SEQ), 0, 'nothing rolled back while the holder lives');
    run.space.kill(holder.pid);
    t.like(await holder.exited, { reason: 'killed' });
    t.like(await waiter.exited, { reason: 'returned', code: 0 });
    t.deepEqual(first(run, 'waiter'), { timedOut: false, seq: 1, owned: FREE }, 'the death rolled the word back and woke its sleeper');
    t.is(m.loadI32(block, ROBUST.FOREIGN), other, "another thread's word is not touched");
    t.is(m.loadI32(block, ROBUST.FOREIGN_SEQ), 0);
    t.is(m.loadI32(block, ROBUST.LEFT), FREE, 'a free word is not touched');
    t.is(m.loadI32(block, ROBUST.LEFT_SEQ), 0);
    if (rt === 'threads') {
      // The live holder of HANDED gives it to the dead thread (a sender finishing into a dead receiver).
      t.is(m.compareExchangeI32(block, ROBUST.HANDED, other, ownedBy(DONE, h.tid)), other);
      t.true(await run.space.waitWord(block, ROBUST.HANDED_SEQ, 0, 20_000), 'rolled back once it names the dead thread');
      t.is(m.loadI32(block, ROBUST.HANDED), FREE);
    }
    await finish(t, run, []);
  });
}

for (const runtime of ['inline', 'threads'] as const) {
  test(`[${runtime}] a host waiting on a word nothing changes gets its timeout, in a process with nothing else to keep it alive`, async (t) => {
    // A fresh process: in ava's, other handles would keep the event loop going regardless.
    const src = new URL('../src/index.ts', import.meta.url).href;
    const script = [
      `import { createAddressSpace } from ${JSON.stringify(src)};`,
      `const space = createAddressSpace({ runtime: ${JSON.stringify(runtime)} });`,
      'const word = space.allocateShared(16);',
      'const changed = await space.waitWord(word, 0, 0, 300);',
      'console.log(JSON.stringify({ changed }));',
      'await space.shutdown();',
    ].join('\n');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { timeout: 60_000 }, (_err, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
    t.is(out.code, 0, out.stderr);
    t.deepEqual(JSON.parse(out.stdout.trim()), { changed: false });
  });
}
