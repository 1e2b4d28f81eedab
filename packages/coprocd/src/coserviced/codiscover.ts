import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { codiscover } from '../protocol/coservices.js';
import type { CoserviceTable } from './table.js';

/** codiscover: validate first (comsg loaded through the argument before checking it). */
export function serveCodiscover(table: CoserviceTable): OpBinding {
  return bind(codiscover, ({ service }) => {
    const s = table.openService(service);
    if (s === undefined) return E.left(sysError('EINVAL', 'CODISCOVER', 'not a live coservice handle'));
    return E.right({ target: table.pick(s.endpoint), op: s.op, flags: s.flags });
  });
}
