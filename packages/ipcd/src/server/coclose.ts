import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { coclose } from '../protocol/coclose.js';
import { CoportRight } from '../protocol/types.js';
import type { Ipcd } from './ipcd.js';

/** coclose: CLOSE right, not closed yet; wakes every waiter (comsg did not). */
export function serveCoclose(ipcd: Ipcd): OpBinding {
  return bind(coclose, ({ port }, call) => {
    const opened = ipcd.open(port, 'COCLOSE');
    if (E.isLeft(opened)) return opened;
    const p = opened.right;
    if ((p.rights & CoportRight.CLOSE) === 0) return E.left(sysError('EACCES', 'COCLOSE', 'handle lacks CLOSE'));
    if (p.port.closed) return E.left(sysError('EPIPE', 'COCLOSE', 'already closed'));
    ipcd.close(call.thread, p.table, p.port);
    return E.right({});
  });
}
