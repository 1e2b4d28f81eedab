/**
 * Loads and stores through capabilities (spec §2.6). The effective address is the
 * authorising capability's address plus an offset. Checks run in CHERI's order —
 * tag, seal, permission, bounds, alignment — and a failure traps with a CapabilityFault.
 *
 * These run on every data access, so they stay on numbers: no bigint, no allocation.
 */
import { Capability, mint } from './capability.js';
import { CapCause, CapabilityFault, type CapCauseCode } from './fault.js';
import { GRANULE, type TaggedMemory } from './tagged-memory.js';
import { Perm } from './perms.js';

function fault(code: CapCauseCode, operand: number, detail: string): CapabilityFault {
  return new CapabilityFault(code, operand, detail);
}

/**
 * Validate `auth` for an access of `length` bytes at auth.address + offset needing `perm`;
 * returns the effective address. `operand` names the capability in a fault.
 */
export function checkAccess(
  memory: TaggedMemory,
  auth: Capability,
  offset: number,
  length: number,
  perm: number,
  operand = 0,
): number {
  let addr: number;
  try {
    // Reading private fields is itself the brand check: a look-alike object throws here.
    addr = Capability.accessCheck(auth, offset, length, perm);
  } catch {
    throw fault(CapCause.TagViolation, operand, 'not a capability (forged or plain data)');
  }
  if (addr < 0) throw accessFault(-addr as CapCauseCode, auth, offset, length, perm, operand);
  if (addr + length > memory.size) {
    throw fault(CapCause.AccessFault, operand, `address 0x${addr.toString(16)} is not backed by memory`);
  }
  if (memory.revoking && memory.revocation.isRevoked(auth)) throw fault(CapCause.TagViolation, operand, 'capability was revoked');
  return addr;
}

function accessFault(code: CapCauseCode, auth: Capability, offset: number, length: number, perm: number, operand: number): CapabilityFault {
  switch (code) {
    case CapCause.TagViolation:
      return fault(code, operand, 'capability is untagged');
    case CapCause.SealViolation:
      return fault(code, operand, 'capability is sealed');
    case CapCause.LengthViolation: {
      const at = auth.addressNumber + offset;
      return fault(code, operand, `access [0x${at.toString(16)}, +${length}) outside bounds ${auth.toString()}`);
    }
    default:
      return fault(code, operand, perm === Perm.LOAD ? 'capability lacks LOAD' : 'capability lacks STORE');
  }
}

/** Load `length` bytes into a JS buffer. */
export function loadBytes(
  memory: TaggedMemory,
  auth: Capability,
  offset: number,
  length: number,
  into: Uint8Array,
  intoOffset = 0,
): void {
  const addr = checkAccess(memory, auth, offset, length, Perm.LOAD);
  if (length <= 32) {
    const bytes = memory.bytes;
    for (let i = 0; i < length; i++) into[intoOffset + i] = bytes[addr + i]!;
  } else {
    into.set(memory.bytes.subarray(addr, addr + length), intoOffset);
  }
}

/** Store bytes from a JS buffer; clears the tags of the granules written. */
export function storeBytes(memory: TaggedMemory, auth: Capability, offset: number, from: Uint8Array): void {
  const addr = checkAccess(memory, auth, offset, from.length, Perm.STORE);
  memory.write(addr, from);
}

/**
 * Capability load (CLC): 16-byte aligned; the tag comes back only if the authority has
 * LOAD_CAP (otherwise it is stripped silently, as ISAv9 does).
 */
export function loadCapability(memory: TaggedMemory, auth: Capability, offset: number): Capability {
  const addr = checkAccess(memory, auth, offset, GRANULE, Perm.LOAD);
  if ((addr & 15) !== 0) throw fault(CapCause.AddressMisaligned, 0, `capability load at unaligned address ${addr}`);
  // A stored capability survived every sweep so far: it is live as of the current epoch —
  // unless its base lies in a region marked for revocation whose sweep has not run yet.
  // (The base comes from the capability's own bounds decode, which its first use needs anyway.)
  const epoch = memory.revocation.epoch;
  const tagged = memory.tagAt(addr) && (auth.perms & Perm.LOAD_CAP) !== 0;
  let cap = memory.loaded.get(memory.words, addr, tagged, epoch);
  if (cap === undefined) {
    const bits = memory.readCapability(addr);
    cap = mint(tagged, bits.address, bits.pesbt, epoch);
    memory.loaded.set(memory.words, addr, tagged, epoch, cap);
  }
  return cap.tag && epoch !== 0 && memory.revocation.pending(cap.baseNumber / 16) ? mint(false, cap.address, cap.pesbt, epoch) : cap;
}

/** Capability store (CSC): check order tag, seal, STORE, STORE_CAP, STORE_LOCAL_CAP, bounds, alignment. */
export function storeCapability(memory: TaggedMemory, auth: Capability, offset: number, value: Capability): void {
  if (!Capability.is(value)) throw fault(CapCause.TagViolation, 1, 'stored value is not a capability');
  if (!Capability.is(auth)) throw fault(CapCause.TagViolation, 0, 'not a capability (forged or plain data)');
  if (!auth.tag) throw fault(CapCause.TagViolation, 0, 'capability is untagged');
  if (auth.sealed) throw fault(CapCause.SealViolation, 0, 'capability is sealed');
  if (!auth.has(Perm.STORE)) throw fault(CapCause.PermitStoreViolation, 0, 'capability lacks STORE');
  if (value.tag) storeCapRules(auth, (value.perms & Perm.GLOBAL) !== 0);
  const addr = checkAccess(memory, auth, offset, GRANULE, Perm.STORE);
  if ((addr & 15) !== 0) throw fault(CapCause.AddressMisaligned, 0, `capability store at unaligned address ${addr}`);
  // A revoked register value is untagged: storing it must not launder it back to life.
  const tag = value.tag && !memory.revocation.isRevoked(value);
  memory.writeCapability(addr, { tag, address: value.address, pesbt: value.pesbt });
}

function storeCapRules(auth: Capability, valueIsGlobal: boolean): void {
  if (!auth.has(Perm.STORE_CAP)) throw fault(CapCause.PermitStoreCapabilityViolation, 0, 'capability lacks STORE_CAP');
  if (!valueIsGlobal && !auth.has(Perm.STORE_LOCAL_CAP)) {
    throw fault(CapCause.PermitStoreLocalCapabilityViolation, 0, 'storing a local capability needs STORE_LOCAL_CAP');
  }
}

/** GLOBAL of the capability stored in a granule (perms bit 0 is pesbt bit 48 = byte 14, bit 0). */
function storedIsGlobal(memory: TaggedMemory, granule: number): boolean {
  return ((memory.bytes[granule + 14] ?? 0) & 1) !== 0;
}

/**
 * memcpy through capabilities: `length` bytes from src.address+srcOffset to
 * dst.address+dstOffset. Like CheriBSD's capability-aware memcpy, aligned whole granules
 * keep their tags when `src` has LOAD_CAP; storing a tagged one then needs STORE_CAP (and
 * STORE_LOCAL_CAP for a local one) on `dst`. With `stripTags`, every tag is dropped.
 */
export function copyBytes(
  memory: TaggedMemory,
  dst: Capability,
  dstOffset: number,
  src: Capability,
  srcOffset: number,
  length: number,
  stripTags = false,
): void {
  let s: number;
  let d: number;
  try {
    s = Capability.accessCheck(src, srcOffset, length, Perm.LOAD);
    d = Capability.accessCheck(dst, dstOffset, length, Perm.STORE);
  } catch {
    // A look-alike operand: find out which one and report it as a tag violation.
    checkAccess(memory, src, srcOffset, length, Perm.LOAD, 1);
    checkAccess(memory, dst, dstOffset, length, Perm.STORE, 0);
    throw new Error('unreachable: access check threw for a valid operand');
  }
  // Slow path only on a fault or a possible tag transfer: let the full checks report it.
  const size = memory.size;
  if (s < 0 || s + length > size) checkAccess(memory, src, srcOffset, length, Perm.LOAD, 1);
  if (d < 0 || d + length > size) checkAccess(memory, dst, dstOffset, length, Perm.STORE, 0);
  if (memory.revoking) {
    // Only after the first revocation: let the full check report a revoked operand.
    if (memory.revocation.isRevoked(src)) checkAccess(memory, src, srcOffset, length, Perm.LOAD, 1);
    if (memory.revocation.isRevoked(dst)) checkAccess(memory, dst, dstOffset, length, Perm.STORE, 0);
  }
  const keep =
    !stripTags && ((s | d) & 15) === 0 && (src.perms & Perm.LOAD_CAP) !== 0 && memory.anyTag(s, length);
  if (keep) {
    const end = s + (length & ~15);
    for (let g = s; g < end; g += GRANULE) {
      if (memory.tagAt(g)) storeCapRules(dst, storedIsGlobal(memory, g));
    }
  }
  memory.copy(d, s, length, keep);
}

/** Scalar helpers for argument blocks: little-endian, checked like any load/store. */
export function loadU32(memory: TaggedMemory, auth: Capability, offset: number): number {
  return memory.view.getUint32(checkAccess(memory, auth, offset, 4, Perm.LOAD), true);
}
export function loadI32(memory: TaggedMemory, auth: Capability, offset: number): number {
  return memory.view.getInt32(checkAccess(memory, auth, offset, 4, Perm.LOAD), true);
}
export function loadU64(memory: TaggedMemory, auth: Capability, offset: number): bigint {
  return memory.view.getBigUint64(checkAccess(memory, auth, offset, 8, Perm.LOAD), true);
}
export function storeU32(memory: TaggedMemory, auth: Capability, offset: number, value: number): void {
  const addr = checkAccess(memory, auth, offset, 4, Perm.STORE);
  memory.clearTags(addr, 4);
  memory.view.setUint32(addr, value >>> 0, true);
}
export function storeI32(memory: TaggedMemory, auth: Capability, offset: number, value: number): void {
  const addr = checkAccess(memory, auth, offset, 4, Perm.STORE);
  memory.clearTags(addr, 4);
  memory.view.setInt32(addr, value | 0, true);
}
export function storeU64(memory: TaggedMemory, auth: Capability, offset: number, value: bigint): void {
  const addr = checkAccess(memory, auth, offset, 8, Perm.STORE);
  memory.clearTags(addr, 8);
  memory.view.setBigUint64(addr, BigInt.asUintN(64, value), true);
}
