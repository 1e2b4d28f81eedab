/**
 * A plain-data picture of the namespace tree, for tools (`comsg ns`) and tests: what exists,
 * what each name holds, and which rights nsd hands out for it. Reading it changes nothing.
 */
import type { NsTypeName, ObjTypeName } from '../protocol/types.js';
import type { NamespaceTable, NsEntry } from './namespace-table.js';

export interface NsObjectView {
  readonly kind: 'object';
  readonly name: string;
  readonly type: ObjTypeName;
  /** The stored capability, described; undefined for a reservation not yet filled. */
  readonly object: string | undefined;
  /** Rights on the handle coinsert returned, and on handles coselect returns (owner / others). */
  readonly rights: { readonly inserter: string; readonly selectOwner: string; readonly selectOther: string };
}

export interface NsView {
  readonly kind: 'namespace';
  readonly name: string;
  readonly type: NsTypeName;
  /** What a handle to it carries: the creator's, and a joiner's (none when it cannot be joined). */
  readonly rights: { readonly creator: string; readonly joiner: string };
  readonly members: ReadonlyArray<NsView | NsObjectView>;
}

function nsView(ns: NsEntry): NsView {
  const members = [...ns.members.values()]
    .map((m): NsView | NsObjectView =>
      m.kind === 'ns'
        ? nsView(m.entry)
        : {
            kind: 'object',
            name: m.entry.name,
            type: m.entry.type,
            object: m.entry.object === undefined ? undefined : m.entry.object.toString(),
            rights: { inserter: m.entry.type === 'RESERVATION' ? 'R W D' : 'R D', selectOwner: 'R D', selectOther: 'R' },
          },
    )
    .sort((a, b) => a.name.localeCompare(b.name));
  const joiner = ns.type === 'ROOT' ? 'WR (coproc_init)' : ns.type === 'PRIVATE' ? '-' : 'WR';
  return { kind: 'namespace', name: ns.name, type: ns.type, rights: { creator: ns.type === 'ROOT' ? '-' : 'OWN', joiner }, members };
}

export function snapshotNamespaces(table: NamespaceTable): NsView {
  return nsView(table.root);
}
