import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { cocreate } from '../protocol/cocreate.js';
import { NsRight, nsRights } from '../protocol/types.js';
import type { NamespaceTable } from './namespace-table.js';

/**
 * cocreate: create (OWN) or join (WR). Fixes comsg: illegal placement is EINVAL (not a NULL
 * success), exhaustion ENOSPC, and an *object* of the same name also blocks creation.
 */
export function serveCocreate(table: NamespaceTable): OpBinding {
  return bind(cocreate, ({ name, type, parent }, call) => {
    const p = table.openNs(parent);
    if (p === undefined) return E.left(sysError('EINVAL', 'COCREATE', 'parent is not a live namespace handle'));
    if (type === 'ROOT') return E.left(sysError('EINVAL', 'COCREATE', 'the root namespace cannot be created'));
    if ((type === 'APPLICATION' || type === 'LIBRARY') && p.entry !== table.root) {
      return E.left(sysError('EINVAL', 'COCREATE', `${type} namespaces live only under the root`));
    }
    if (!nsRights(p.perms).write) return E.left(sysError('EACCES', 'COCREATE', 'parent handle lacks WR'));
    const existing = p.entry.members.get(name);
    if (existing !== undefined) {
      if (existing.kind === 'obj') return E.left(sysError('EEXIST', 'COCREATE', `an object named ${name} exists`));
      if (existing.entry.type !== type) return E.left(sysError('EEXIST', 'COCREATE', `${name} exists with type ${existing.entry.type}`));
      if (type === 'PRIVATE') return E.left(sysError('EEXIST', 'COCREATE', 'private namespaces cannot be joined'));
      return E.right({ ns: table.nsHandle(existing.entry, NsRight.WR), created: 0 });
    }
    if (table.overQuota(call.callerPid, 'namespaces')) return E.left(sysError('EDQUOT', 'COCREATE', `pid ${call.callerPid} has its ${table.quota.namespaces} namespaces`));
    const created = table.createNs(p.entry, name, type, call.callerPid);
    if (created === undefined) return E.left(sysError('ENOSPC', 'COCREATE', 'namespace table or parent is full'));
    return E.right({ ns: table.nsHandle(created, NsRight.OWN), created: 1 });
  });
}
