import * as E from 'fp-ts/lib/Either.js';
import { sysError } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { codrop } from '../protocol/codrop.js';
import { nsRights } from '../protocol/types.js';
import type { NamespaceTable } from './namespace-table.js';

/** codrop, implemented (comsg's never worked): OWN on `ns`, `ns` a child of `parent`. */
export function serveCodrop(table: NamespaceTable): OpBinding {
  return bind(codrop, ({ ns, parent, recursive }) => {
    const n = table.openNs(ns);
    const p = table.openNs(parent);
    if (n === undefined || p === undefined) return E.left(sysError('EINVAL', 'CODROP', 'not a live namespace handle'));
    if (n.entry === table.root) return E.left(sysError('EINVAL', 'CODROP', 'the root namespace cannot be dropped'));
    if (!nsRights(n.perms).own) return E.left(sysError('EACCES', 'CODROP', 'only the owner may drop a namespace'));
    if (n.entry.parent !== p.entry) return E.left(sysError('ENOENT', 'CODROP', 'namespace is not a child of parent'));
    if (n.entry.members.size > 0 && recursive === 0) return E.left(sysError('ENOTEMPTY', 'CODROP', 'namespace is not empty'));
    return E.right({ removed: table.dropNs(n.entry) });
  });
}
