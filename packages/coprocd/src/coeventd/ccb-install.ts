import * as E from 'fp-ts/lib/Either.js';
import { sysError, type CoProcessApi } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { CALLBACK_ARGS_MAX, ccbInstall } from '../protocol/events.js';
import type { EventTable } from './state.js';

/** ccb_install: both handles validated, argument bytes copied into coeventd's memory now. */
export function serveCcbInstall(ctx: CoProcessApi, table: EventTable): OpBinding {
  return bind(ccbInstall, ({ func, coevent, args, len }) => {
    const f = table.openFunc(func);
    const ev = table.openEvent(coevent);
    if (f === undefined || ev === undefined) return E.left(sysError('EINVAL', 'CCB_INSTALL', 'not a live function/event handle'));
    if (!Number.isInteger(len) || len < 0) return E.left(sysError('EINVAL', 'CCB_INSTALL', `bad length ${len}`));
    if (len > CALLBACK_ARGS_MAX) return E.left(sysError('EMSGSIZE', 'CCB_INSTALL', `arguments longer than ${CALLBACK_ARGS_MAX}`));
    if (ev.state !== 'armed') return E.left(sysError('ESRCH', 'CCB_INSTALL', 'the event has already fired'));
    let copy = undefined;
    if (len > 0) {
      if (args === undefined) return E.left(sysError('EINVAL', 'CCB_INSTALL', 'non-zero length with no argument buffer'));
      const mem = ctx.malloc(CALLBACK_ARGS_MAX + 16);
      if (E.isLeft(mem)) return E.left(sysError('ENOSPC', 'CCB_INSTALL', 'no memory for the arguments'));
      const copied = ctx.machine.attempt((m) => m.copy(mem.right, 0, args, 0, len));
      if (E.isLeft(copied)) return E.left(sysError('EFAULT', 'CCB_INSTALL', `cannot read the arguments: ${copied.left.causeName}`));
      copy = mem.right;
    }
    ev.callbacks.push({ func: f, args: copy, len });
    return E.right({ position: ev.callbacks.length - 1 });
  });
}
