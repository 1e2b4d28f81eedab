/**
 * A capability's bytes with the capability checked once, for data copies in and out of a
 * long-lived buffer (a COCHANNEL ring). Opening the window makes the check every copy through
 * `cap` would make — tagged, unsealed, LOAD and STORE, not revoked, backed by memory — for the
 * whole range [address, top); each copy then checks only that its range lies inside the
 * window, and the other operand in full.
 *
 * Why: a stream copies through the same ring capability once per message, and checking it
 * each time was a measurable part of a 64-byte send on the threads runtime. As with
 * WordWindow, only revocation can change for an immutable capability, so code that keeps a
 * window re-checks `isLive(window.cap)` before each operation (or opens a new one).
 *
 * Copies are data only: like any data write, they clear the tags of the bytes they write, and
 * no tag travels with the bytes (a channel carries bytes, not capabilities).
 */
import { checkAccess } from './access.js';
import { Capability } from './capability.js';
import { CapabilityFault, CapCause } from './fault.js';
import { Perm } from './perms.js';
import type { TaggedMemory } from './tagged-memory.js';

export class ByteWindow {
  /** The capability the window was opened with. */
  readonly cap: Capability;
  /** How many bytes the window covers, from the capability's address to its top. */
  readonly length: number;
  readonly #memory: TaggedMemory;
  /** Absolute byte address of offset 0. */
  readonly #at: number;

  /** @internal Use `CapMachine.bytes`. */
  constructor(memory: TaggedMemory, cap: Capability) {
    const bytes = Math.max(0, cap.topNumber - cap.addressNumber);
    this.#at = checkAccess(memory, cap, 0, bytes, Perm.LOAD | Perm.STORE);
    this.cap = cap;
    this.#memory = memory;
    this.length = bytes;
  }

  /** Copy `length` bytes from `src` + `srcOffset` (checked for LOAD now) to `at` in the window. */
  copyIn(at: number, src: Capability, srcOffset: number, length: number): void {
    const d = this.#range(at, length);
    this.#memory.copy(d, this.#operand(src, srcOffset, length, Perm.LOAD, 1), length, false);
  }

  /** Copy `length` bytes from `at` in the window to `dst` + `dstOffset` (checked for STORE now). */
  copyOut(at: number, dst: Capability, dstOffset: number, length: number): void {
    const s = this.#range(at, length);
    this.#memory.copy(this.#operand(dst, dstOffset, length, Perm.STORE, 0), s, length, false);
  }

  /** The absolute address of [at, at + length) inside the window, or a LengthViolation. */
  #range(at: number, length: number): number {
    if (!(at >= 0 && length >= 0 && at + length <= this.length && Number.isInteger(at) && Number.isInteger(length))) {
      throw new CapabilityFault(CapCause.LengthViolation, 0, `bytes [+${at}, +${at + length}) outside a ${this.length}-byte window`);
    }
    return this.#at + at;
  }

  /**
   * The other operand's effective address, checked as copyBytes checks its two (the full
   * check reports a fault). Not shared with copyBytes: folding copyBytes' two checks into calls
   * of one helper measured slower on the inline cocall's copies (about 110 against 55–105 ns a
   * 64-byte copy, alternating processes).
   */
  #operand(cap: Capability, offset: number, length: number, perm: number, operand: number): number {
    const memory = this.#memory;
    let addr = -1;
    try {
      addr = Capability.accessCheck(cap, offset, length, perm);
    } catch {
      // A look-alike object: the full check reports it as a tag violation.
    }
    if (addr < 0 || addr + length > memory.size || (memory.revoking && memory.revocation.isRevoked(cap))) {
      return checkAccess(memory, cap, offset, length, perm, operand);
    }
    return addr;
  }
}
