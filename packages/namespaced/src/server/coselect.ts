import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { coselect } from '../protocol/coselect.js';
import { ObjRight, nsRights } from '../protocol/types.js';
import type { NamespaceTable } from './namespace-table.js';

/**
 * coselect: a lookup by name and type in one namespace. Fixes comsg: the handle never carries
 * W (only the inserter can fill a reservation) and carries D only for the namespace's owner.
 */
export function serveCoselect(table: NamespaceTable): OpBinding {
  return bind(coselect, ({ name, type, ns }) => {
    const n = table.openNs(ns);
    if (n === undefined) return E.left(sysError('EINVAL', 'COSELECT', 'not a live namespace handle'));
    const rights = nsRights(n.perms);
    if (!rights.read) return E.left(sysError('EACCES', 'COSELECT', 'namespace handle lacks RO/WR'));
    const m = n.entry.members.get(name);
    if (m === undefined || m.kind !== 'obj' || m.entry.type !== type) {
      return E.left(sysError('ENOENT', 'COSELECT', `no ${type} named ${name}`));
    }
    const handle = table.objHandle(m.entry, ObjRight.R | (rights.own ? ObjRight.D : 0));
    return E.right({ nsobj: handle, obj: m.entry.object });
  });
}
