import * as E from 'fp-ts/lib/Either.js';
import { bind, type OpBinding } from '@comsg/abi';
import { coportEntry } from '../protocol/coport-entry.js';
import type { Ipcd } from './ipcd.js';

/** The sealed entry of a coport type (for ports a program got from a namespace or capv). */
export function serveCoportEntry(ipcd: Ipcd): OpBinding {
  return bind(coportEntry, ({ type }) => E.right({ entry: ipcd.entries[type] }));
}
