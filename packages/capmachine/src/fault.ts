/**
 * Capability faults. A dereference (and, in strict mode, a bad manipulation) traps like
 * CHERI hardware; the trap is a `CapabilityFault` carrying the CHERI cause code, which the
 * kernel side turns into SIGPROT-style co-process death or an errno at a cocall boundary.
 */
export const CapCause = {
  None: 0x00,
  LengthViolation: 0x01,
  TagViolation: 0x02,
  SealViolation: 0x03,
  TypeViolation: 0x04,
  CallTrap: 0x05,
  ReturnTrap: 0x06,
  TrustedStackUnderflow: 0x07,
  UserDefinedPermissionViolation: 0x08,
  TlbProhibitsStoreCapability: 0x09,
  InexactBounds: 0x0a,
  UnalignedBase: 0x0b,
  GlobalViolation: 0x10,
  PermitExecuteViolation: 0x11,
  PermitLoadViolation: 0x12,
  PermitStoreViolation: 0x13,
  PermitLoadCapabilityViolation: 0x14,
  PermitStoreCapabilityViolation: 0x15,
  PermitStoreLocalCapabilityViolation: 0x16,
  PermitSealViolation: 0x17,
  AccessSystemRegistersViolation: 0x18,
  PermitCInvokeViolation: 0x19,
  AccessCInvokeIdcViolation: 0x1a,
  PermitUnsealViolation: 0x1b,
  PermitSetCidViolation: 0x1c,
  /** Not a CHERI cause: RISC-V address-misaligned, reported for unaligned cap accesses. */
  AddressMisaligned: 0x100,
  /** Not a CHERI cause: the address is not backed by memory (a page fault on hardware). */
  AccessFault: 0x101,
} as const;
export type CapCauseName = keyof typeof CapCause;
export type CapCauseCode = (typeof CapCause)[CapCauseName];

const causeNames = new Map<number, CapCauseName>(
  (Object.keys(CapCause) as CapCauseName[]).map((n) => [CapCause[n], n]),
);

export function causeName(code: number): CapCauseName | 'Unknown' {
  return causeNames.get(code) ?? 'Unknown';
}

/** Which operand faulted: an argument position, or the machine's PCC/DDC. */
export type CapOperand = number | 'pcc' | 'ddc';

export class CapabilityFault extends Error {
  readonly _tag = 'CapabilityFault' as const;
  override readonly name = 'CapabilityFault';
  readonly causeName: CapCauseName | 'Unknown';
  constructor(
    /** The CHERI cause code (spec §2.2). */
    readonly code: CapCauseCode,
    /** Which capability operand the fault is about. */
    readonly capIndex: CapOperand,
    detail: string,
  ) {
    const name = causeName(code);
    super(`${name} (0x${code.toString(16).padStart(2, '0')}) on operand ${String(capIndex)}: ${detail}`);
    this.causeName = name;
  }

  /** The RISC-V xtval encoding: register index << 5 | cause. */
  get xtval(): number {
    const reg = this.capIndex === 'pcc' ? 32 : this.capIndex === 'ddc' ? 33 : this.capIndex;
    return (reg << 5) | (this.code & 0x1f);
  }
}

export function isCapabilityFault(e: unknown): e is CapabilityFault {
  return e instanceof CapabilityFault;
}
