import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { toAttachmentRegisters } from '../protocol/attachments.js';
import { corecv } from '../protocol/corecv.js';
import { CoportRight, PollEvent } from '../protocol/types.js';
import type { Ipcd } from './ipcd.js';

/** COCARRIER receive: the head message goes to the caller, who must free it. */
export function serveCorecv(ipcd: Ipcd): OpBinding {
  return bind(corecv, ({ port, max }, call) => {
    const opened = ipcd.open(port, 'CORECV');
    if (E.isLeft(opened)) return opened;
    const p = opened.right;
    if (p.table.type !== 'COCARRIER') return E.left(sysError('EOPNOTSUPP', 'CORECV', `${p.table.type} data does not go through ipcd`));
    if ((p.rights & CoportRight.RECV) === 0) return E.left(sysError('EACCES', 'CORECV', 'handle lacks RECV'));
    const c = ipcd.carrier;
    const head = c.of(p.port).queue[0];
    if (head !== undefined && max > 0 && head.len > max) {
      return E.left(sysError('EMSGSIZE', 'CORECV', `next message is ${head.len} bytes; the buffer holds ${max}`));
    }
    const msg = c.take(p.port, call.callerPid);
    if (msg === undefined) {
      if (p.port.closed) return E.left(sysError('EPIPE', 'CORECV', 'coport is closed and drained'));
      c.sync(call.thread, p.port, PollEvent.RERR);
      return E.left(sysError('EAGAIN', 'CORECV', 'queue empty'));
    }
    c.sync(call.thread, p.port, 0, PollEvent.RERR);
    return E.right({ msg: msg.view, len: msg.len, count: msg.attachments.length, ...toAttachmentRegisters(msg.attachments) });
  });
}
