/**
 * Namespaces for programs: cocreate, codrop, coinsert, coselect, coupdate, codelete. Every
 * call returns `Either<ComsgError, T>`; a bad argument is an error value (EINVAL, or
 * ENAMETOOLONG for names over 91 characters), never an exit or a throw.
 */
import * as E from 'fp-ts/lib/Either.js';
import { sysError, type Capability, type SysError } from '@comsg/capmachine';
import { NAME_MAX } from '@comsg/abi';
import type { UkernThread } from '@comsg/libcoproc';
import {
  cocreate as cocreateOp,
  codelete as codeleteOp,
  codrop as codropOp,
  coinsert as coinsertOp,
  coselect as coselectOp,
  coupdate as coupdateOp,
  type NsTypeName,
  type ObjTypeName,
} from '@comsg/namespaced/protocol';

/** Errors are tagged values with an errno name: `{ _tag: 'EACCES', errno, op, message }`. */
export type ComsgError = SysError;

function checkName(op: string, name: string): ComsgError | undefined {
  if (typeof name !== 'string') return sysError('EINVAL', op, 'name must be a string');
  if (name.length > NAME_MAX) return sysError('ENAMETOOLONG', op, `names are at most ${NAME_MAX} characters`);
  return undefined;
}

export async function cocreate(k: UkernThread, name: string, type: NsTypeName, parent: Capability): Promise<E.Either<ComsgError, { ns: Capability; created: boolean }>> {
  const bad = checkName('cocreate', name);
  if (bad !== undefined) return E.left(bad);
  const r = await k.call(cocreateOp, { name: name as never, type, parent });
  return E.map((v: { ns: Capability; created: number }) => ({ ns: v.ns, created: v.created === 1 }))(r);
}

export async function codrop(k: UkernThread, ns: Capability, parent: Capability, options: { recursive?: boolean } = {}): Promise<E.Either<ComsgError, number>> {
  const r = await k.call(codropOp, { ns, parent, recursive: options.recursive === true ? 1 : 0 });
  return E.map((v: { removed: number }) => v.removed)(r);
}

export async function coinsert(k: UkernThread, name: string, type: ObjTypeName, obj: Capability | undefined, ns: Capability): Promise<E.Either<ComsgError, Capability>> {
  const bad = checkName('coinsert', name);
  if (bad !== undefined) return E.left(bad);
  const r = await k.call(coinsertOp, { name: name as never, type, obj, ns });
  return E.map((v: { nsobj: Capability }) => v.nsobj)(r);
}

export interface Selected {
  /** The namespace-object handle (for codelete, or coupdate if it came from coinsert). */
  readonly nsobj: Capability;
  /** The stored object (coport, coservice, …); none for a reservation. */
  readonly obj: Capability | undefined;
}

export async function coselect(k: UkernThread, name: string, type: ObjTypeName, ns: Capability): Promise<E.Either<ComsgError, Selected>> {
  const bad = checkName('coselect', name);
  if (bad !== undefined) return E.left(bad);
  return k.call(coselectOp, { name: name as never, type, ns });
}

export async function coupdate(k: UkernThread, nsobj: Capability, type: ObjTypeName, obj: Capability): Promise<E.Either<ComsgError, Capability>> {
  const r = await k.call(coupdateOp, { nsobj, type, obj });
  return E.map((v: { nsobj: Capability }) => v.nsobj)(r);
}

export async function codelete(k: UkernThread, nsobj: Capability, ns: Capability): Promise<E.Either<ComsgError, void>> {
  const r = await k.call(codeleteOp, { nsobj, ns });
  return E.map(() => undefined)(r);
}
