import * as E from 'fp-ts/lib/Either.js';
import { Perm, sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { coupdate } from '../protocol/coupdate.js';
import { ObjRight } from '../protocol/types.js';
import type { NamespaceTable } from './namespace-table.js';

/**
 * coupdate: fill a reservation once. Fixes comsg: a COSERVICE (an unsealed handle) can be
 * the new object; the type and object change together (no half-updated window).
 */
export function serveCoupdate(table: NamespaceTable): OpBinding {
  return bind(coupdate, ({ nsobj, type, obj }) => {
    const o = table.openObj(nsobj);
    if (o === undefined || o.type !== 'RESERVATION') return E.left(sysError('EINVAL', 'COUPDATE', 'not a live reservation handle'));
    if (type === 'RESERVATION') return E.left(sysError('EINVAL', 'COUPDATE', 'cannot update to a reservation'));
    if (obj.has(Perm.GLOBAL)) return E.left(sysError('EINVAL', 'COUPDATE', 'object capability must be local (no GLOBAL)'));
    if ((o.perms & ObjRight.W) === 0) return E.left(sysError('EPERM', 'COUPDATE', 'handle lacks W'));
    if (o.entry.type !== 'RESERVATION') return E.left(sysError('ENODEV', 'COUPDATE', 'reservation was already filled'));
    o.entry.type = type;
    o.entry.object = obj;
    return E.right({ nsobj: table.objHandle(o.entry, ObjRight.R | ObjRight.D) });
  });
}
