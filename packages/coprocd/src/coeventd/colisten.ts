import * as E from 'fp-ts/lib/Either.js';
import { sysError, type CoProcessApi } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { CoeventType, colisten } from '../protocol/events.js';
import { fire } from './fire.js';
import type { EventTable } from './state.js';

/**
 * colisten: a process may only listen for its *own* death (EINTEGRITY otherwise), which
 * confines monitoring to the address space. Listening twice returns the same event. A
 * watcher thread waits for the exit and then fires the callbacks in order.
 */
export function serveColisten(ctx: CoProcessApi, table: EventTable): OpBinding {
  return bind(colisten, ({ event, pid }, call) => {
    if (event !== CoeventType.PROCESS_DEATH) return E.left(sysError('EINVAL', 'COLISTEN', `unknown event type ${event}`));
    if (call.callerPid < 0) return E.left(sysError('EOPNOTSUPP', 'COLISTEN', 'caller cannot be identified'));
    if (pid !== call.callerPid) return E.left(sysError('EINTEGRITY', 'COLISTEN', 'a process may only listen for its own death'));
    const existing = table.byPid.get(pid);
    if (existing !== undefined && existing.state === 'armed') return E.right({ coevent: table.eventHandle(existing) });
    const at = table.events.claim();
    if (at === undefined) return E.left(sysError('ENOSPC', 'COLISTEN', 'event table full'));
    const ev = { ...at, pid, callbacks: [], state: 'armed' as const };
    table.events.put(ev);
    table.byPid.set(pid, ev);
    ctx.spawnThread(`watch-${pid}`, async (th) => {
      await ctx.waitpid(pid, { thread: th, daemon: true });
      await fire(ctx, th, table, ev);
    });
    return E.right({ coevent: table.eventHandle(ev) });
  });
}
