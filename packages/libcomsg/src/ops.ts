/** Every microkernel op declaration in one list: for docs, tracers and fuzzers. */
import type { AnyOpDecl } from '@comsg/abi';
import { nsdOps } from '@comsg/namespaced/protocol';
import { ipcdOps } from '@comsg/ipcd/protocol';
import { bootReport, ccbInstall, ccbRegister, codiscover, codiscover2, colisten, coprocInit, coprovide, coprovide2 } from '@comsg/coprocd/protocol';

export const ALL_OPS: readonly AnyOpDecl[] = [...nsdOps, coprovide, coprovide2, codiscover, codiscover2, colisten, ccbRegister, ccbInstall, coprocInit, bootReport, ...ipcdOps];

/** The declaration of op number `op`, if there is one. */
export function opDecl(op: number): AnyOpDecl | undefined {
  return ALL_OPS.find((d) => d.op === op);
}
