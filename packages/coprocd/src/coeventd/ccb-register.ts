import * as E from 'fp-ts/lib/Either.js';
import { sysError, type CoProcessApi } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { ccbRegister } from '../protocol/events.js';
import type { EventTable } from './state.js';

/** ccb_register: a callback function = a sealed target plus flags, owned by its provider. */
export function serveCcbRegister(ctx: CoProcessApi, table: EventTable): OpBinding {
  return bind(ccbRegister, ({ target, flags }, call) => {
    if (!target.sealed) return E.left(sysError('EINVAL', 'CCB_REGISTER', 'target must be a sealed switcher target'));
    if (call.callerPid < 0) return E.left(sysError('EOPNOTSUPP', 'CCB_REGISTER', 'caller cannot be identified'));
    const at = table.functions.claim();
    if (at === undefined) return E.left(sysError('ENOSPC', 'CCB_REGISTER', 'function table full'));
    const f = { ...at, target, flags, provider: call.callerPid };
    table.functions.put(f);
    // When the provider dies its functions go with it (their callbacks are then skipped).
    ctx.spawnThread(`provider-${call.callerPid}-${f.slot}`, async (th) => {
      await ctx.waitpid(f.provider, { thread: th, daemon: true });
      table.functions.release(f);
    });
    return E.right({ func: table.funcHandle(f) });
  });
}
