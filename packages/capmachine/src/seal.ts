/**
 * Sealing (spec §2.4): a sealed capability is immutable and cannot be dereferenced until
 * unsealed by a capability with UNSEAL authority for exactly its otype. Sealing authority is
 * itself a capability whose *address* names the otype and whose bounds say which otypes it
 * may use — so one type manager's sealing cap can never touch another's types.
 */
import { mint, type Capability } from './capability.js';
import { MASK64, preciseRepresentable } from './cc128-math.js';
import { CapCause } from './fault.js';
import { check, type IsaMode } from './isa-mode.js';
import { assertCapability } from './operand.js';
import { Otype, isReservedOtype } from './otype.js';
import { Perm } from './perms.js';

const OTYPE_FIELD_MASK = 0x3ffffn << 27n;
const GLOBAL_BIT = 1n << 48n;

function withOtype(pesbt: bigint, otype: number): bigint {
  return (pesbt & ~OTYPE_FIELD_MASK & MASK64) | (BigInt(otype) << 27n);
}

function addressInBounds(c: Capability): boolean {
  return c.address >= c.base && c.address < c.top;
}

/** CSeal: seal `cap` with otype = `sealer.address`. */
export function seal(cap: Capability, sealer: Capability, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  assertCapability(sealer, 1);
  const otype = sealer.address;
  const inBounds = addressInBounds(sealer);
  const typeOk = otype <= BigInt(Otype.MAX_SOFTWARE);
  check(mode, !cap.tag, CapCause.TagViolation, 0, 'capability to seal is untagged');
  check(mode, !sealer.tag, CapCause.TagViolation, 1, 'sealing capability is untagged');
  check(mode, cap.sealed, CapCause.SealViolation, 0, 'capability is already sealed');
  check(mode, sealer.sealed, CapCause.SealViolation, 1, 'sealing capability is sealed');
  check(mode, !sealer.has(Perm.SEAL), CapCause.PermitSealViolation, 1, 'sealing capability lacks SEAL');
  check(mode, !inBounds || !typeOk, CapCause.LengthViolation, 1, 'otype outside the sealing capability');
  const tag =
    cap.tag && sealer.tag && !cap.sealed && !sealer.sealed && sealer.has(Perm.SEAL) && inBounds && typeOk;
  return mint(tag, cap.address, withOtype(cap.pesbt, Number(otype & 0x3ffffn)), cap.birth);
}

/** CUnseal: restore an unsealed capability; GLOBAL survives only if both operands have it. */
export function unseal(cap: Capability, unsealer: Capability, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  assertCapability(unsealer, 1);
  const reserved = isReservedOtype(cap.otype);
  const typeMatch = unsealer.address === BigInt(cap.otype);
  const inBounds = addressInBounds(unsealer);
  check(mode, !cap.tag, CapCause.TagViolation, 0, 'capability to unseal is untagged');
  check(mode, !unsealer.tag, CapCause.TagViolation, 1, 'unsealing capability is untagged');
  check(mode, !cap.sealed, CapCause.SealViolation, 0, 'capability is not sealed');
  check(mode, unsealer.sealed, CapCause.SealViolation, 1, 'unsealing capability is sealed');
  check(mode, reserved, CapCause.TypeViolation, 0, 'reserved otype cannot be unsealed');
  check(mode, !typeMatch, CapCause.TypeViolation, 1, 'otype does not match the unsealing capability');
  check(mode, !unsealer.has(Perm.UNSEAL), CapCause.PermitUnsealViolation, 1, 'unsealing capability lacks UNSEAL');
  check(mode, !inBounds, CapCause.LengthViolation, 1, 'otype outside the unsealing capability');
  const tag =
    cap.tag && unsealer.tag && cap.sealed && !unsealer.sealed && !reserved && typeMatch &&
    unsealer.has(Perm.UNSEAL) && inBounds;
  let pesbt = withOtype(cap.pesbt, Otype.UNSEALED);
  if (!unsealer.has(Perm.GLOBAL)) pesbt &= ~GLOBAL_BIT & MASK64;
  return mint(tag, cap.address, pesbt, cap.birth);
}

/**
 * CCSeal (conditional seal): pass `cap` through unchanged when the sealer is untagged, `cap`
 * is already sealed, the sealer's address is out of its bounds or all ones; otherwise seal.
 */
export function conditionalSeal(cap: Capability, sealer: Capability, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  assertCapability(sealer, 1);
  check(mode, !cap.tag, CapCause.TagViolation, 0, 'capability to seal is untagged');
  if (!sealer.tag || cap.sealed || !addressInBounds(sealer) || sealer.address === MASK64) return cap;
  const typeOk = sealer.address <= BigInt(Otype.MAX_SOFTWARE);
  check(mode, sealer.sealed, CapCause.SealViolation, 1, 'sealing capability is sealed');
  check(mode, !sealer.has(Perm.SEAL), CapCause.PermitSealViolation, 1, 'sealing capability lacks SEAL');
  check(mode, !typeOk, CapCause.LengthViolation, 1, 'otype is reserved');
  const tag = cap.tag && !sealer.sealed && sealer.has(Perm.SEAL) && typeOk;
  return mint(tag, cap.address, withOtype(cap.pesbt, Number(sealer.address & 0x3ffffn)), cap.birth);
}

/** CSealEntry: make a sentry, which can only be jumped to (never read, written or changed). */
export function sealEntry(cap: Capability, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  check(mode, !cap.tag, CapCause.TagViolation, 0, 'capability is untagged');
  check(mode, cap.sealed, CapCause.SealViolation, 0, 'capability is already sealed');
  check(mode, !cap.has(Perm.EXECUTE), CapCause.PermitExecuteViolation, 0, 'sentry needs EXECUTE');
  return mint(cap.tag && !cap.sealed, cap.address, withOtype(cap.pesbt, Otype.SENTRY), cap.birth);
}

/**
 * CCopyType: `cap` with its address set to `typed`'s otype (reserved otypes read back
 * sign-extended), so a type manager can derive the sealing cap for an object it holds.
 */
export function copyType(cap: Capability, typed: Capability, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  assertCapability(typed, 1);
  check(mode, !cap.tag, CapCause.TagViolation, 0, 'capability is untagged');
  check(mode, cap.sealed, CapCause.SealViolation, 0, 'capability is sealed');
  if (isReservedOtype(typed.otype)) {
    return mint(false, BigInt.asUintN(64, BigInt(typed.type)), cap.pesbt, cap.birth);
  }
  const address = BigInt(typed.otype);
  const inBounds = address >= cap.base && address < cap.top;
  check(mode, !inBounds, CapCause.LengthViolation, 0, 'otype outside the capability bounds');
  const tag = cap.tag && !cap.sealed && preciseRepresentable(cap.pesbt, cap.address, address);
  return mint(tag, address, cap.pesbt, cap.birth);
}
