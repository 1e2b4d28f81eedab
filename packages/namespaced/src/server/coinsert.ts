import * as E from 'fp-ts/lib/Either.js';
import { Perm, sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { coinsert } from '../protocol/coinsert.js';
import { ObjRight, nsRights } from '../protocol/types.js';
import type { NamespaceTable } from './namespace-table.js';

/** coinsert: WR on `ns`, a free name, an object iff not a reservation, and a local object. */
export function serveCoinsert(table: NamespaceTable): OpBinding {
  return bind(coinsert, ({ name, type, obj, ns }, call) => {
    const n = table.openNs(ns);
    if (n === undefined) return E.left(sysError('EINVAL', 'COINSERT', 'not a live namespace handle'));
    if ((type === 'RESERVATION') !== (obj === undefined)) {
      return E.left(sysError('EINVAL', 'COINSERT', 'a reservation has no object; every other type needs one'));
    }
    if (obj !== undefined && obj.has(Perm.GLOBAL)) return E.left(sysError('EINVAL', 'COINSERT', 'object capability must be local (no GLOBAL)'));
    if (!nsRights(n.perms).write) return E.left(sysError('EACCES', 'COINSERT', 'namespace handle lacks WR'));
    if (n.entry.members.has(name)) return E.left(sysError('EEXIST', 'COINSERT', `${name} is taken`));
    if (table.overQuota(call.callerPid, 'objects')) return E.left(sysError('EDQUOT', 'COINSERT', `pid ${call.callerPid} has its ${table.quota.objects} objects`));
    const entry = table.insertObj(n.entry, name, type, obj, call.callerPid);
    if (entry === undefined) return E.left(sysError('ENOSPC', 'COINSERT', 'object table or namespace is full'));
    const rights = type === 'RESERVATION' ? ObjRight.R | ObjRight.W | ObjRight.D : ObjRight.R | ObjRight.D;
    return E.right({ nsobj: table.objHandle(entry, rights) });
  });
}
