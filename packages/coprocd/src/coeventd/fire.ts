import * as E from 'fp-ts/lib/Either.js';
import { COSETUP_COCALL, type CoProcessApi, type CoThreadApi } from '@comsg/capmachine';
import { ARGS_SIZE, cocall } from '@comsg/abi';
import type { DeathEvent, EventTable } from './state.js';

/** How long coeventd waits for one callback before reporting it failed. */
export const CALLBACK_TIMEOUT_MS = 2000;

/**
 * Fire an event: call each installed callback in order. A callback whose provider has exited
 * is skipped; a failing one is reported and the rest still run — coeventd never exits over a
 * callback (comsg's did, taking the whole microkernel down).
 */
export async function fire(ctx: CoProcessApi, th: CoThreadApi, table: EventTable, ev: DeathEvent): Promise<void> {
  ev.state = 'firing';
  th.cosetup(COSETUP_COCALL);
  const reply = E.getOrElseW(() => undefined)(ctx.malloc(ARGS_SIZE));
  for (const [position, cb] of ev.callbacks.entries()) {
    const report = (outcome: (typeof table.reports)[number]['outcome']): void => {
      table.reports.push({ pid: ev.pid, position, provider: cb.func.provider, outcome });
      if (outcome !== 'called') ctx.print(`coeventd: callback ${position} for pid ${ev.pid}: ${outcome}`);
    };
    const live = table.functions.get(cb.func.slot, cb.func.gen);
    if (live === undefined || reply === undefined) {
      report('skipped: provider gone');
      continue;
    }
    const out = cb.args ?? reply;
    const r = await cocall(th, cb.func.target, out, cb.len, reply, ARGS_SIZE, { timeoutMs: CALLBACK_TIMEOUT_MS });
    if (E.isLeft(r)) report(r.left._tag === 'ENOLINK' ? 'skipped: provider gone' : `failed: ${r.left._tag}`);
    else report('called');
  }
  ev.state = 'fired';
  if (table.byPid.get(ev.pid) === ev) table.byPid.delete(ev.pid);
  table.events.release(ev);
}
