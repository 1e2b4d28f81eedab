import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { codiscover2 } from '../protocol/coservices.js';
import type { CoserviceTable } from './table.js';

/** codiscover2: the next worker of a coservice. */
export function serveCodiscover2(table: CoserviceTable): OpBinding {
  return bind(codiscover2, ({ service }) => {
    const s = table.openService(service);
    if (s === undefined) return E.left(sysError('EINVAL', 'CODISCOVER2', 'not a live coservice handle'));
    return E.right({ target: table.pick(s.endpoint) });
  });
}
