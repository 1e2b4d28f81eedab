import { CapabilityFault, type CapCauseCode, type CapOperand } from './fault.js';

/**
 * How manipulation instructions treat invalid operands: `v9` (the architectural default,
 * current CHERI-RISC-V) returns an untagged result; `strict` traps with the ISAv8 cause
 * codes, which makes a misuse show up where it happens — handy as a bug detector in tests.
 */
export type IsaMode = 'v9' | 'strict';

/** One ISAv8 check: if `failed`, strict mode traps with `code` on `operand`. */
export function check(
  mode: IsaMode,
  failed: boolean,
  code: CapCauseCode,
  operand: CapOperand,
  detail: string,
): void {
  if (failed && mode === 'strict') throw new CapabilityFault(code, operand, detail);
}
