/**
 * Capability manipulation instructions that move the address, narrow bounds or drop
 * permissions (spec §2.4). None of them can widen authority: bounds come from the CC128
 * encoding (rounded outwards but checked against the source), perms only lose bits.
 */
import { mint, type Capability } from './capability.js';
import {
  MASK64,
  encodeBounds,
  fastRepresentable,
  preciseRepresentable,
  withEbt,
} from './cc128-math.js';
import { CapCause } from './fault.js';
import { check, type IsaMode } from './isa-mode.js';
import { assertCapability } from './operand.js';
import { PERMS_ALL, permsToField } from './perms.js';

const PERMS_FIELD_MASK = 0xffffn << 48n;
const FLAGS_BIT = 1n << 45n;

function sealedCheck(mode: IsaMode, cap: Capability, operand = 0): void {
  check(mode, cap.tag && cap.sealed, CapCause.SealViolation, operand, 'capability is sealed');
}

/** CSetAddr: move the address; the tag survives only if the bounds decode unchanged. */
export function setAddress(cap: Capability, address: bigint, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  sealedCheck(mode, cap);
  const next = address & MASK64;
  const keep = cap.tag && !cap.sealed && preciseRepresentable(cap.pesbt, cap.address, next);
  return mint(keep, next, cap.pesbt, cap.birth);
}

/** CIncOffset: add a signed increment; uses the hardware's fast representability check. */
export function incOffset(cap: Capability, increment: bigint, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  sealedCheck(mode, cap);
  const next = (cap.address + increment) & MASK64;
  return mint(movedTag(cap, next), next, cap.pesbt, cap.birth);
}

/** CSetOffset: address := base + offset. */
export function setOffset(cap: Capability, offset: bigint, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  sealedCheck(mode, cap);
  const next = (cap.base + offset) & MASK64;
  return mint(movedTag(cap, next), next, cap.pesbt, cap.birth);
}

function movedTag(cap: Capability, next: bigint): boolean {
  if (!cap.tag || cap.sealed) return false;
  // Like the reference library, an in-bounds address is representable by construction.
  if (next >= cap.base && next < cap.top) return true;
  return fastRepresentable(cap.pesbt, cap.address, next);
}

/** Outcome of CSetBounds: the new capability and whether rounding was needed. */
export interface SetBoundsResult {
  readonly cap: Capability;
  readonly exact: boolean;
}

/**
 * CSetBounds core: new base = address, requested top = address + length, rounded outwards
 * to the nearest CC128-representable bounds. The tag survives only when the request lies
 * inside the source's bounds (and, for the exact form, no rounding happened).
 */
export function setBoundsDetailed(
  cap: Capability,
  length: bigint,
  mode: IsaMode = 'v9',
  requireExact = false,
): SetBoundsResult {
  assertCapability(cap, 0);
  const reqBase = cap.address;
  const reqTop = reqBase + (length & MASK64);
  check(mode, !cap.tag, CapCause.TagViolation, 0, 'capability is untagged');
  sealedCheck(mode, cap);
  const inside = reqBase >= cap.base && reqTop <= cap.top;
  check(mode, !inside, CapCause.LengthViolation, 0, 'requested bounds exceed the source bounds');
  const enc = encodeBounds(reqBase, reqTop);
  check(mode, requireExact && !enc.exact, CapCause.InexactBounds, 0, 'bounds are not exactly representable');
  const pesbt = withEbt(cap.pesbt, enc.ebt);
  const tag = cap.tag && !cap.sealed && inside && (!requireExact || enc.exact);
  return { cap: mint(tag, reqBase, pesbt, cap.birth), exact: enc.exact };
}

/** CSetBounds (rounding allowed). */
export function setBounds(cap: Capability, length: bigint, mode: IsaMode = 'v9'): Capability {
  return setBoundsDetailed(cap, length, mode, false).cap;
}

/** CSetBoundsExact: the tag is cleared (strict: Inexact trap) if rounding was needed. */
export function setBoundsExact(cap: Capability, length: bigint, mode: IsaMode = 'v9'): Capability {
  return setBoundsDetailed(cap, length, mode, true).cap;
}

/** CAndPerm: keep only the permissions present in `mask`. */
export function andPerm(cap: Capability, mask: number, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  check(mode, !cap.tag, CapCause.TagViolation, 0, 'capability is untagged');
  sealedCheck(mode, cap);
  const perms = cap.perms & mask & PERMS_ALL;
  const pesbt = (cap.pesbt & ~PERMS_FIELD_MASK & MASK64) | (permsToField(perms) << 48n);
  return mint(cap.tag && !cap.sealed, cap.address, pesbt, cap.birth);
}

/** CSetFlags: set the mode flag bit. */
export function setFlags(cap: Capability, flags: number, mode: IsaMode = 'v9'): Capability {
  assertCapability(cap, 0);
  sealedCheck(mode, cap);
  const pesbt = (flags & 1) === 1 ? cap.pesbt | FLAGS_BIT : cap.pesbt & ~FLAGS_BIT & MASK64;
  return mint(cap.tag && !cap.sealed, cap.address, pesbt, cap.birth);
}

/** CClearTag: the same bits, no authority. Never traps. */
export function clearTag(cap: Capability): Capability {
  assertCapability(cap, 0);
  return cap.tag ? mint(false, cap.address, cap.pesbt, cap.birth) : cap;
}
