import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { coportMsgFree } from '../protocol/coport-msg-free.js';
import type { Ipcd } from './ipcd.js';

/** Free a received message: only its receiver may; the memory is revoked, then reused. */
export function serveCoportMsgFree(ipcd: Ipcd): OpBinding {
  return bind(coportMsgFree, ({ port, msg }, call) => {
    const opened = ipcd.open(port, 'COPORT_MSG_FREE');
    if (E.isLeft(opened)) return opened;
    const p = opened.right;
    if (p.table.type !== 'COCARRIER') return E.left(sysError('EOPNOTSUPP', 'COPORT_MSG_FREE', 'only COCARRIER messages are freed'));
    const found = ipcd.carrier.of(p.port).outstanding.get(msg.baseNumber);
    if (found === undefined || found.view.address !== msg.address || !ipcd.machine.isLive(msg)) {
      return E.left(sysError('ENOENT', 'COPORT_MSG_FREE', 'not an unfreed message of this port'));
    }
    if (found.receiver !== call.callerPid) return E.left(sysError('EACCES', 'COPORT_MSG_FREE', 'only the receiver may free a message'));
    ipcd.carrier.free(p.port, found);
    if (p.port.closed) ipcd.reclaim(call.thread, p.table);
    return E.right({});
  });
}
