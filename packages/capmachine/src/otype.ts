/**
 * Object types (spec §1.4): 18 bits, reserved values allocated downwards from all ones
 * (ISAv9: four of them). CheriBSD splits the rest into a user range and a kernel range.
 */
export const Otype = {
  UNSEALED: 0x3ffff,
  SENTRY: 0x3fffe,
  RESERVED_INDIRECT_PAIR: 0x3fffd,
  RESERVED_INDIRECT_SENTRY: 0x3fffc,
  /** Largest otype software may seal with. */
  MAX_SOFTWARE: 0x3fffb,
  USER_MIN: 0,
  USER_MAX: 0x1ffff,
  KERNEL_MIN: 0x20000,
  KERNEL_MAX: 0x3fffb,
} as const;

export function isReservedOtype(otype: number): boolean {
  return otype > Otype.MAX_SOFTWARE;
}

/** CGetType: reserved otypes read back sign-extended (unsealed = −1, sentry = −2). */
export function otypeSigned(otype: number): number {
  return isReservedOtype(otype) ? otype - 0x40000 : otype;
}
