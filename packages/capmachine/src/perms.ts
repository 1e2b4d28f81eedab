/**
 * Permission bits, numbered as CGetPerm/CAndPerm see them (spec §1.3): hardware bits 0–11,
 * software ("user") bits SW0–SW3 at 15–18. In pesbt the software bits sit just above the
 * hardware ones (shifted by 12 rather than 15).
 */
export const Perm = {
  GLOBAL: 1 << 0,
  EXECUTE: 1 << 1,
  LOAD: 1 << 2,
  STORE: 1 << 3,
  LOAD_CAP: 1 << 4,
  STORE_CAP: 1 << 5,
  STORE_LOCAL_CAP: 1 << 6,
  SEAL: 1 << 7,
  CINVOKE: 1 << 8,
  UNSEAL: 1 << 9,
  SYSTEM_REGS: 1 << 10,
  SET_CID: 1 << 11,
  SW0: 1 << 15,
  SW1: 1 << 16,
  SW2: 1 << 17,
  SW3: 1 << 18,
} as const;
export type PermName = keyof typeof Perm;

export const PERMS_HW_MASK = 0xfff;
export const PERMS_SW_MASK = 0x78000;
/** Every permission: what the reset capability holds. */
export const PERMS_ALL = PERMS_HW_MASK | PERMS_SW_MASK;

/** CheriBSD's named sets (cherireg.h), useful when handing out memory. */
export const PermSet = {
  USERSPACE: Perm.GLOBAL | Perm.LOAD | Perm.LOAD_CAP | Perm.CINVOKE | (PERMS_SW_MASK & ~Perm.SW1),
  get USERSPACE_CODE() {
    return this.USERSPACE | Perm.EXECUTE;
  },
  get USERSPACE_DATA() {
    return this.USERSPACE | Perm.STORE | Perm.STORE_CAP | Perm.STORE_LOCAL_CAP | Perm.SW1;
  },
  SEALCAP: Perm.GLOBAL | Perm.SEAL | Perm.UNSEAL,
  /** Plain data memory with capability load/store: what allocations hand out. */
  DATA: Perm.GLOBAL | Perm.LOAD | Perm.STORE | Perm.LOAD_CAP | Perm.STORE_CAP | Perm.STORE_LOCAL_CAP,
  READ: Perm.LOAD | Perm.LOAD_CAP,
  WRITE: Perm.STORE | Perm.STORE_CAP | Perm.STORE_LOCAL_CAP,
} as const;

/** Architectural perms word → the 16-bit pesbt field (bits 63:48). */
export function permsToField(perms: number): bigint {
  return BigInt((perms & PERMS_HW_MASK) | (((perms & PERMS_SW_MASK) >>> 15) << 12));
}

/** The 16-bit pesbt field → architectural perms word. */
export function permsFromField(field: number): number {
  return (field & PERMS_HW_MASK) | (((field >>> 12) & 0xf) << 15);
}

/** Names of the permissions set in a word, for messages and tools. */
export function permNames(perms: number): PermName[] {
  return (Object.keys(Perm) as PermName[]).filter((n) => (perms & Perm[n]) !== 0);
}
