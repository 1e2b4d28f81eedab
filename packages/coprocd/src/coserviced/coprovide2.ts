import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { coprovide2 } from '../protocol/coservices.js';
import type { CoserviceTable } from './table.js';

/** coprovide2: another (op, flags) coservice sharing an existing worker pool. */
export function serveCoprovide2(table: CoserviceTable): OpBinding {
  return bind(coprovide2, ({ endpoint, flags, op }) => {
    const e = table.openEndpoint(endpoint);
    if (e === undefined) return E.left(sysError('EINVAL', 'COPROVIDE2', 'not a live endpoint handle'));
    const service = table.addService(e, op, flags);
    if (service === undefined) return E.left(sysError('ENOSPC', 'COPROVIDE2', 'coservice table full'));
    return E.right({ service: table.serviceHandle(service) });
  });
}
