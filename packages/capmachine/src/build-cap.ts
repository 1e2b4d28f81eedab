/**
 * CBuildCap: re-derive a capability from its bit pattern under an authorising capability
 * (spec §2.4). It is how a trusted party (e.g. a swap-in path) restores a tag — and it can
 * only produce what the authority could have derived anyway: bounds and perms within it,
 * a canonical encoding, unsealed or sentry.
 */
import { mint, type Capability } from './capability.js';
import { TOP_MAX, boundsEncodingValid, EBT_MASK, encodeBounds } from './cc128-math.js';
import { CapCause } from './fault.js';
import { check, type IsaMode } from './isa-mode.js';
import { assertCapability } from './operand.js';
import { Otype } from './otype.js';

/** Could these bits have come out of ordinary derivation? */
export function isDerivable(bits: Capability): boolean {
  const { base, top } = bits;
  if (base > top || top > TOP_MAX) return false;
  if (bits.reserved !== 0) return false;
  if (bits.otype !== Otype.UNSEALED && bits.otype !== Otype.SENTRY) return false;
  if (!boundsEncodingValid(bits.pesbt)) return false;
  const enc = encodeBounds(base, top);
  return enc.exact && enc.ebt === (bits.pesbt & EBT_MASK);
}

export function buildCap(auth: Capability, bits: Capability, mode: IsaMode = 'v9'): Capability {
  assertCapability(auth, 0);
  assertCapability(bits, 1);
  const within = bits.base >= auth.base && bits.top <= auth.top;
  const ordered = bits.base <= bits.top;
  const permsOk = (bits.perms & ~auth.perms) === 0;
  const derivable = isDerivable(bits);
  check(mode, !auth.tag, CapCause.TagViolation, 0, 'authority is untagged');
  check(mode, auth.sealed, CapCause.SealViolation, 0, 'authority is sealed');
  check(mode, !within, CapCause.LengthViolation, 0, 'bounds exceed the authority');
  check(mode, !ordered, CapCause.LengthViolation, 0, 'base above top');
  check(mode, !permsOk, CapCause.UserDefinedPermissionViolation, 0, 'perms exceed the authority');
  check(mode, !derivable, CapCause.LengthViolation, 1, 'bit pattern is not derivable');
  const tag = auth.tag && !auth.sealed && within && ordered && permsOk && derivable;
  return mint(tag, bits.address, bits.pesbt, auth.birth);
}
