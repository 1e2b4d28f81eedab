/**
 * One declaration per microkernel op: its number, daemon, argument and result codecs with
 * the registers they travel in, and its closed error union. Client stubs, server dispatch,
 * the docs table and the trace printer are all derived from these declarations.
 */
import type * as t from 'io-ts';
import type { ErrnoName } from '@comsg/capmachine';
import type { Slot } from './block.js';
import { Op, type OpName } from './ops.js';

export type DaemonName = 'coprocd' | 'nsd' | 'coserviced' | 'coeventd' | 'ipcd';

/** Errors every op may return whatever it declares: bad argument shape, unknown op, a daemon bug. */
export const UNIVERSAL_ERRORS = ['EINVAL', 'ENOSYS', 'EDEFECT'] as const;
export type UniversalError = (typeof UNIVERSAL_ERRORS)[number];

export interface OpDecl<N extends OpName, A, R, E extends ErrnoName> {
  readonly name: N;
  readonly op: (typeof Op)[N];
  readonly daemon: DaemonName;
  /** Served on the slow path (the callee may block). */
  readonly slow: boolean;
  readonly summary: string;
  readonly args: t.Type<A, unknown, unknown>;
  readonly argSlots: { readonly [K in keyof A]-?: Slot };
  readonly result: t.Type<R, unknown, unknown>;
  readonly resultSlots: { readonly [K in keyof R]-?: Slot };
  readonly errors: readonly E[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOpDecl = OpDecl<OpName, any, any, ErrnoName>;
/* eslint-disable @typescript-eslint/no-unused-vars */
export type ArgsOf<D> = D extends OpDecl<infer _N, infer A, infer _R, infer _E> ? A : never;
export type ResultOf<D> = D extends OpDecl<infer _N, infer _A, infer R, infer _E> ? R : never;
export type ErrorsOf<D> = D extends OpDecl<infer _N, infer _A, infer _R, infer E> ? E : never;
/* eslint-enable @typescript-eslint/no-unused-vars */

export function defineOp<N extends OpName, A, R, E extends ErrnoName>(
  decl: Omit<OpDecl<N, A, R, E>, 'op' | 'slow'> & { readonly slow?: boolean },
): OpDecl<N, A, R, E> {
  return Object.freeze({ ...decl, op: Op[decl.name], slow: decl.slow ?? false });
}
