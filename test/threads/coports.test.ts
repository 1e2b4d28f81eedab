/**
 * Coports across worker threads, with the microkernel itself on workers: exactly-once delivery
 * under several producers and consumers for every coport type, a port owner killed while a
 * sender waits in it, and a killed daemon restarted by coprocd. Serial: each test runs a
 * dozen workers on a two-core machine.
 */
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { bootMicrokernel, createAddressSpace, ThreadedAddressSpace, type AddressSpaceApi, type Microkernel, type MicrokernelEvent } from '@comsg/libcoproc';
import type { CoportTypeName } from '@comsg/libcomsg';
import { B, HAMMER_BASE } from './_programs.js';

const programs = new URL('./_programs.ts', import.meta.url).href;
const prog = (name: string) => ({ module: programs, export: name, name });

interface Booted {
  readonly space: AddressSpaceApi;
  readonly kernel: Microkernel;
  readonly lines: string[];
  readonly seen: (what: string) => Array<{ pid: number; value: unknown }>;
}

async function boot(): Promise<Booted> {
  const lines: string[] = [];
  const space = createAddressSpace({ runtime: 'threads', stdout: (l) => lines.push(l) });
  const kernel = bootMicrokernel(space);
  const up = await kernel.ready;
  if (E.isLeft(up)) throw new Error(`boot: ${up.left.message}\n${lines.join('\n')}`);
  const seen = (what: string) =>
    lines.flatMap((l) => {
      try {
        const r = JSON.parse(l) as { what: string; pid: number; value: unknown };
        return r.what === what ? [r] : [];
      } catch {
        return [];
      }
    });
  return { space, kernel, lines, seen };
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function shutdown(t: import('ava').ExecutionContext, b: Booted): Promise<void> {
  await b.space.shutdown();
  t.is((b.space as ThreadedAddressSpace).liveWorkers, 0, 'no worker survives shutdown');
}

for (const type of ['COCHANNEL', 'COPIPE', 'COCARRIER'] as const satisfies readonly CoportTypeName[]) {
  test.serial(`${type} across threads: 2 producers × 150 frames, 2 consumers — every frame received exactly once, intact`, async (t) => {
    const b = await boot();
    const P = 2;
    const N = 150;
    const block = b.space.allocateShared(B.COUNTS + P * N * 4);
    const argv = (name: string, ...more: string[]) => [name, type, String(P), String(N), ...more];
    const owner = b.space.spawn(prog('owner'), { argv: argv('owner'), capv: [block] });
    const consumers = [0, 1].map((c) => b.space.spawn(prog('consumer'), { argv: argv(`consumer-${c}`), capv: [block] }));
    const producers = Array.from({ length: P }, (_, p) => b.space.spawn(prog('producer'), { argv: argv(`producer-${p}`, String(p)), capv: [block] }));
    const statuses = await Promise.all([...producers, ...consumers].map((h) => h.exited));
    const m = b.space.machine;
    m.storeI32(block, B.DONE, 1);
    for (const s of statuses) t.like(s, { reason: 'returned', code: 0 }, `${JSON.stringify(s)}\n${b.lines.join('\n')}`);
    t.is(m.loadI32(block, B.TOTAL), P * N);
    t.is(m.loadI32(block, B.CORRUPT), 0, 'no frame arrived damaged');
    const counts = Array.from({ length: P * N }, (_, i) => m.loadI32(block, B.COUNTS + i * 4));
    t.deepEqual(
      counts.flatMap((c, i) => (c === 1 ? [] : [{ producer: Math.floor(i / N), seq: i % N, times: c }])),
      [],
      'each (producer, seq) received once',
    );
    const received = b.seen('received').map((r) => r.value as number);
    t.is(received.reduce((x, y) => x + y, 0), P * N);
    t.like(await owner.exited, { reason: 'returned' });
    await shutdown(t, b);
  });
}

for (const type of ['COPIPE', 'COCHANNEL'] as const) {
  test.serial(`${type}: the port's owner is killed while a sender waits in it — the sender gets EPIPE, not a hang`, async (t) => {
    const b = await boot();
    const block = b.space.allocateShared(B.COUNTS);
    const owner = b.space.spawn(prog('owner'), { argv: ['owner', type, '1', '1'], capv: [block] });
    const sender = b.space.spawn(prog('blockedSender'), { argv: ['sender'] });
    await until(() => b.seen('blocking').length > 0, 'the sender to block');
    // Give the sender time to enter its waiting send, then kill the port's owner.
    await new Promise((r) => setTimeout(r, 100));
    t.true(E.isRight(b.space.kill(owner.pid)));
    t.like(await sender.exited, { reason: 'returned', code: 0 }, b.lines.join('\n'));
    const [unblocked] = b.seen('unblocked');
    t.is((unblocked?.value as { tag: string } | undefined)?.tag, 'EPIPE', b.lines.join('\n'));
    t.like(await owner.exited, { reason: 'killed' });
    await shutdown(t, b);
  });
}

test.serial('COCHANNEL: senders killed mid-copy (8 KiB sends) never wedge the port or tear a frame; a later producer is received exactly once', async (t) => {
  const b = await boot();
  const N = 300;
  const block = b.space.allocateShared(B.COUNTS + N * 4);
  const argv = (name: string) => [name, 'COCHANNEL', '1', String(N)];
  const owner = b.space.spawn(prog('owner'), { argv: [...argv('owner'), String(1 << 16)], capv: [block] });
  const consumer = b.space.spawn(prog('consumer'), { argv: argv('consumer'), capv: [block] });
  for (let i = 0; i < 6; i++) {
    const h = b.space.spawn(prog('hammer'), { argv: ['hammer', String(HAMMER_BASE + i)] });
    await until(() => b.seen('hammering').length > i, `hammer ${i} to stream`);
    await new Promise((r) => setTimeout(r, 3 + 7 * i));
    t.true(E.isRight(b.space.kill(h.pid)));
    t.like(await h.exited, { reason: 'killed' });
  }
  const producer = b.space.spawn(prog('producer'), { argv: [...argv('producer-0'), '0'], capv: [block] });
  t.like(await producer.exited, { reason: 'returned', code: 0 }, b.lines.join('\n'));
  t.like(await consumer.exited, { reason: 'returned', code: 0 }, b.lines.join('\n'));
  const m = b.space.machine;
  m.storeI32(block, B.DONE, 1);
  t.is(m.loadI32(block, B.CORRUPT), 0, 'no frame arrived torn');
  t.true(m.loadI32(block, B.HAMMER) > 0, 'the hammers streamed');
  const counts = Array.from({ length: N }, (_, i) => m.loadI32(block, B.COUNTS + i * 4));
  t.deepEqual(counts.flatMap((c, i) => (c === 1 ? [] : [{ seq: i, times: c }])), [], 'each frame of the later producer received once');
  t.like(await owner.exited, { reason: 'returned' });
  await shutdown(t, b);
});

test.serial('inspectAsync and checkAsync read the daemons\' tables on their workers: the namespace tree, open ports, pool counters, no problems', async (t) => {
  const b = await boot();
  t.deepEqual(b.kernel.inspect().pools, {}, 'the synchronous view cannot reach other workers');
  const block = b.space.allocateShared(B.COUNTS);
  const owner = b.space.spawn(prog('owner'), { argv: ['owner', 'COCHANNEL', '1', '1'], capv: [block] });
  await until(() => b.seen('opened').length > 0, 'the owner to open its port');
  const view = await b.kernel.inspectAsync();
  t.is(view.ipcd?.open.COCHANNEL, 1);
  t.is(view.ipcd?.portsByPid[owner.pid], 1);
  const app = view.namespaces?.members.find((m) => m.name === 'stress');
  t.like(app, { kind: 'namespace', type: 'APPLICATION' });
  t.deepEqual(app?.kind === 'namespace' ? app.members.map((m) => [m.name, m.type]) : [], [['port', 'COPORT']]);
  t.true((view.nsd?.objects ?? 0) >= 1);
  for (const d of ['nsd', 'ipcd', 'coserviced', 'coeventd'] as const) t.truthy(view.pools[d], `${d} answered`);
  t.true((view.pools.nsd?.calls ?? 0) > 0, 'nsd served calls');
  t.deepEqual(await b.kernel.checkAsync(), { nsd: [], coserviced: [], coeventd: [], ipcd: [] });
  // Asking again gets a fresh answer: the owner's death is seen, and the tables stay consistent.
  t.true(E.isRight(b.space.kill(owner.pid)));
  await owner.exited;
  let byOwner: number | undefined = 1;
  for (let i = 0; i < 100 && byOwner !== undefined; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const again = await b.kernel.inspectAsync();
    byOwner = again.ipcd?.portsByPid[owner.pid];
    if (byOwner !== undefined && i === 99) t.fail('the dead owner still holds its port');
  }
  t.deepEqual(await b.kernel.checkAsync(), { nsd: [], coserviced: [], coeventd: [], ipcd: [] });
  await shutdown(t, b);
});

test.serial('a killed daemon worker is restarted by coprocd; coports work again afterwards', async (t) => {
  const b = await boot();
  const events: MicrokernelEvent[] = [];
  b.kernel.events.on('event', (e) => events.push(e));
  const ipcdPid = b.kernel.status().ipcd.pid;
  t.true(E.isRight(b.space.kill(ipcdPid)));
  await until(() => events.some((e) => e.kind === 'restarted' && e.daemon === 'ipcd'), 'ipcd to restart');
  t.like(events.find((e) => e.kind === 'exited'), { daemon: 'ipcd', pid: ipcdPid, reason: 'killed' });
  t.not(b.kernel.status().ipcd.pid, ipcdPid);
  t.is(b.kernel.status().ipcd.restarts, 1);
  const block = b.space.allocateShared(B.COUNTS);
  b.space.spawn(prog('owner'), { argv: ['owner', 'COCARRIER', '1', '1'], capv: [block] });
  await until(() => b.seen('opened').length > 0, 'a coopen through the new ipcd');
  t.is(b.seen('opened')[0]?.value, 'COCARRIER');
  await shutdown(t, b);
});
