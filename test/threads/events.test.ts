/**
 * copoll and death events across worker threads, with the microkernel on workers: a poller
 * sleeping in copoll on ports of two types is woken by a send from another worker, and a
 * subject killed on its worker fires the callbacks a watcher on a third worker installed on
 * its death event, in order. Serial: each test runs about eight workers on two cores.
 */
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { bootMicrokernel, createAddressSpace, ThreadedAddressSpace, type AddressSpaceApi } from '@comsg/libcoproc';
import { PollEvent } from '@comsg/libcomsg';
import { V, V_BYTES } from './_event-programs.js';

const programs = new URL('./_event-programs.ts', import.meta.url).href;
const prog = (name: string) => ({ module: programs, export: name, name });

async function boot(): Promise<{ space: AddressSpaceApi; lines: string[]; seen: (what: string) => unknown[] }> {
  const lines: string[] = [];
  const space = createAddressSpace({ runtime: 'threads', stdout: (l) => lines.push(l) });
  const up = await bootMicrokernel(space).ready;
  if (E.isLeft(up)) throw new Error(`boot: ${up.left.message}\n${lines.join('\n')}`);
  const seen = (what: string) =>
    lines.flatMap((l) => {
      const r = JSON.parse(l) as { what?: string; value?: unknown };
      return r.what === what ? [r.value] : [];
    });
  return { space, lines, seen };
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test.serial('copoll across workers: a poller asleep on a COCHANNEL and a COCARRIER port wakes for the port another worker sends on', async (t) => {
  const b = await boot();
  try {
    const block = b.space.allocateShared(V_BYTES);
    const poller = b.space.spawn(prog('poller'), { capv: [block] });
    const poker = b.space.spawn(prog('poker'), { capv: [block] });
    const [ps, ks] = await Promise.all([poller.exited, poker.exited]);
    t.like(ps, { reason: 'returned', code: 0 }, `${String(ps.error)}\n${b.lines.join('\n')}`);
    t.like(ks, { reason: 'returned', code: 0 }, String(ks.error));
    t.deepEqual(b.seen('polled')[0], [
      { ready: 1, revents: [0, PollEvent.IN] },
      { ready: 1, revents: [PollEvent.IN] },
    ]);
  } finally {
    await b.space.shutdown();
  }
  t.is((b.space as ThreadedAddressSpace).liveWorkers, 0);
});

test.serial('death events across workers: killing a subject fires the callbacks installed on its event, in order', async (t) => {
  const b = await boot();
  try {
    const block = b.space.allocateShared(V_BYTES);
    const m = b.space.machine;
    const watcher = b.space.spawn(prog('watcher'), { capv: [block] });
    const subject = b.space.spawn(prog('subject'), { capv: [block] });
    let watcherEnded = false;
    void watcher.exited.then(() => (watcherEnded = true));
    await until(() => m.loadI32(block, V.INSTALLED) > 0 || watcherEnded, 'the callbacks to be installed');
    t.is(m.loadI32(block, V.INSTALLED), 1, `the watcher ended early: ${b.lines.join('\n')}`);
    t.is(m.loadI32(block, V.FIRED), 0, 'nothing fires while the subject lives');
    t.true(E.isRight(b.space.kill(subject.pid)));
    t.like(await subject.exited, { reason: 'killed' });
    const ws = await watcher.exited;
    t.like(ws, { reason: 'returned', code: 0 }, `${String(ws.error)}\n${b.lines.join('\n')}`);
    t.deepEqual(b.seen('fired')[0], [1, 2, 3]);
  } finally {
    await b.space.shutdown();
  }
  t.is((b.space as ThreadedAddressSpace).liveWorkers, 0);
});
