import test from 'ava';
import { ExitWatch } from '../src/server/exit-watch.js';

/** A controllable exit: `exit(pid)` resolves what `exitOf(pid)` returned. */
function exits() {
  const pending = new Map<number, () => void>();
  const exitOf = (pid: number): Promise<void> | undefined =>
    pid < 0 ? undefined : new Promise<void>((r) => pending.set(pid, r));
  return { exitOf, exit: async (pid: number) => (pending.get(pid)?.(), await new Promise((r) => setImmediate(r))) };
}

test('cleanups run once per name, in registration order, when the pid exits', async (t) => {
  const e = exits();
  const ran: string[] = [];
  const w = new ExitWatch(e.exitOf, () => true);
  w.once(7, 'ports', () => ran.push('ports'));
  w.once(7, 'messages', () => ran.push('messages'));
  w.once(7, 'ports', () => ran.push('ports again'));
  w.once(-1, 'ports', () => ran.push('never'));
  t.deepEqual(ran, []);
  await e.exit(7);
  t.deepEqual(ran, ['ports', 'messages']);
});

test('no cleanup runs once the watcher itself has ended (an exit seen after ipcd was killed)', async (t) => {
  const e = exits();
  let alive = true;
  const ran: string[] = [];
  const w = new ExitWatch(e.exitOf, () => alive);
  w.once(3, 'ports', () => ran.push('ports'));
  alive = false;
  await e.exit(3);
  t.deepEqual(ran, []);
});
