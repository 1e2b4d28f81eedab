import * as E from 'fp-ts/lib/Either.js';
import { Perm, sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { coopen } from '../protocol/coopen.js';
import { ALL_RIGHTS, PollEvent } from '../protocol/types.js';
import type { Ipcd } from './ipcd.js';

/** coopen: claim a slot (reclaiming closed ports first if the table is full), set up the record. */
export function serveCoopen(ipcd: Ipcd): OpBinding {
  const m = ipcd.machine;
  return bind(coopen, ({ type, capacity }, call) => {
    const table = ipcd.tables[type];
    let bytes = 0;
    if (type === 'COCHANNEL') {
      bytes = capacity === 0 ? ipcd.limits.channelBytes : capacity;
      if (bytes < 1 || bytes > ipcd.limits.maxChannelBytes) return E.left(sysError('EINVAL', 'COOPEN', `channel capacity must be 1..${ipcd.limits.maxChannelBytes}`));
    }
    if (ipcd.overQuota(call.callerPid)) for (const t of Object.values(ipcd.tables)) ipcd.reclaim(call.thread, t);
    if (ipcd.overQuota(call.callerPid)) {
      return E.left(sysError('EDQUOT', 'COOPEN', `pid ${call.callerPid} holds its ${ipcd.limits.portsPerProcess} ports`));
    }
    if (table.slots.size >= table.capacity) ipcd.reclaim(call.thread, table);
    if (table.slots.size >= table.capacity) return E.left(sysError('ENOSPC', 'COOPEN', `all ${table.capacity} ${type} ports are open`));
    const ring = type === 'COCHANNEL' ? ipcd.arena.allocate(bytes) : undefined;
    if (type === 'COCHANNEL' && ring === undefined) return E.left(sysError('ENOMEM', 'COOPEN', 'ipcd arena exhausted'));
    // A COCHANNEL's events follow from its counters; a COCARRIER's are kept in EVENTS.
    const events = type === 'COCARRIER' ? PollEvent.OUT : 0;
    const port = table.allocate({
      events,
      capacity: type === 'COCHANNEL' ? bytes : type === 'COCARRIER' ? ipcd.limits.queueDepth : 0,
      ...(ring === undefined ? {} : { buf: m.andPerm(ring.cap, Perm.LOAD | Perm.STORE) }),
    });
    if (port === undefined) {
      if (ring !== undefined) ipcd.arena.free(ring);
      return E.left(sysError('ENOSPC', 'COOPEN', `all ${table.capacity} ${type} ports are open`));
    }
    if (ring !== undefined) port.ring = { free: () => ipcd.arena.free(ring) };
    port.owner = call.callerPid;
    ipcd.watchOwner(call.callerPid);
    return E.right({ port: table.handle(port, ALL_RIGHTS | Perm.CINVOKE), entry: ipcd.entries[type] });
  });
}
