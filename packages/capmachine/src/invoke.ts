/**
 * CInvoke: the one controlled non-monotonic step besides CUnseal. A sealed code/data pair
 * of the same otype, both with CINVOKE, is unsealed into (PCC, C31) without UNSEAL
 * authority — the domain-crossing primitive the switcher's entry is built on.
 */
import { mint, type Capability } from './capability.js';
import { MASK64 } from './cc128-math.js';
import { CapCause, CapabilityFault } from './fault.js';
import { assertCapability } from './operand.js';
import { Otype, isReservedOtype } from './otype.js';
import { Perm } from './perms.js';

const OTYPE_FIELD_MASK = 0x3ffffn << 27n;

export interface InvokedPair {
  /** The new PCC: code unsealed, address bit 0 cleared. */
  readonly pcc: Capability;
  /** The new C31 (IDC on CHERI-MIPS): data unsealed. */
  readonly data: Capability;
}

function unsealed(c: Capability, address: bigint): Capability {
  return mint(true, address, (c.pesbt & ~OTYPE_FIELD_MASK & MASK64) | (BigInt(Otype.UNSEALED) << 27n), c.birth);
}

/** Check order follows spec §2.5 (steps 1–9 and 12); always traps, as a jump would. */
export function invoke(code: Capability, data: Capability): InvokedPair {
  assertCapability(code, 0);
  assertCapability(data, 1);
  const fault = (cause: (typeof CapCause)[keyof typeof CapCause], operand: number, msg: string) =>
    new CapabilityFault(cause, operand, msg);
  if (!code.tag) throw fault(CapCause.TagViolation, 0, 'code capability is untagged');
  if (!data.tag) throw fault(CapCause.TagViolation, 1, 'data capability is untagged');
  if (isReservedOtype(code.otype)) throw fault(CapCause.SealViolation, 0, 'code capability is not sealed with a type');
  if (isReservedOtype(data.otype)) throw fault(CapCause.SealViolation, 1, 'data capability is not sealed with a type');
  if (code.otype !== data.otype) throw fault(CapCause.TypeViolation, 0, 'code and data otypes differ');
  if (!code.has(Perm.CINVOKE)) throw fault(CapCause.PermitCInvokeViolation, 0, 'code lacks CINVOKE');
  if (!data.has(Perm.CINVOKE)) throw fault(CapCause.PermitCInvokeViolation, 1, 'data lacks CINVOKE');
  if (!code.has(Perm.EXECUTE)) throw fault(CapCause.PermitExecuteViolation, 0, 'code lacks EXECUTE');
  if (data.has(Perm.EXECUTE)) throw fault(CapCause.PermitExecuteViolation, 1, 'data must not be executable');
  const target = code.address & ~1n;
  if (target < code.base || target >= code.top) throw fault(CapCause.LengthViolation, 0, 'entry point outside code bounds');
  return { pcc: unsealed(code, target), data: unsealed(data, data.address) };
}
