import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { codelete } from '../protocol/codelete.js';
import { ObjRight, nsRights } from '../protocol/types.js';
import type { NamespaceTable } from './namespace-table.js';

/** codelete: D on the object handle and (fix) WR on the namespace; the object must be in it. */
export function serveCodelete(table: NamespaceTable): OpBinding {
  return bind(codelete, ({ nsobj, ns }) => {
    const n = table.openNs(ns);
    const o = table.openObj(nsobj);
    if (n === undefined) return E.left(sysError('EINVAL', 'CODELETE', 'not a live namespace handle'));
    if (o === undefined) return E.left(sysError('EINVAL', 'CODELETE', 'not a live object handle'));
    if ((o.perms & ObjRight.D) === 0) return E.left(sysError('EACCES', 'CODELETE', 'object handle lacks D'));
    if (!nsRights(n.perms).write) return E.left(sysError('EACCES', 'CODELETE', 'namespace handle lacks WR'));
    if (o.entry.ns !== n.entry) {
      const m = n.entry.members.get(o.entry.name);
      const sameShape = m?.kind === 'obj' && m.entry.type === o.entry.type;
      return E.left(sysError(sameShape ? 'EPERM' : 'ENOENT', 'CODELETE', 'object is not a member of this namespace'));
    }
    table.removeObj(o.entry);
    return E.right({});
  });
}
