/**
 * Revocation state (CHERIvoke/"caprevoke" style) for one tagged memory.
 *
 * Revoking a region invalidates every capability whose *base* lies in it — the rule CHERI's
 * revokers use, so an allocator's wider capability (whose base lies outside the freed
 * allocation) survives. Capabilities stored in memory are swept (their tags cleared) at
 * revoke time. Capabilities held in JS variables — this machine's registers — cannot be
 * swept, so each carries the epoch it was derived under ("birth") and the map records, per
 * granule, the epoch at which it was last revoked: a register value born before its base
 * granule was revoked behaves as untagged from then on. Derivation from live authority
 * restamps the birth, so freed memory can be handed out again at once.
 *
 * Layout (shared, so worker threads see one state): word 0 = current epoch; word 1 + g = the
 * epoch at which granule g was last revoked (0 = never), with PENDING set from the mark until
 * the sweep: a capability *stored* in memory and loaded in between is born at load time, so
 * the load itself must see that its base lies in a region still waiting to be swept.
 */
import type { Capability } from './capability.js';

/** Set on a granule's stamp between a quarantine's mark and its sweep. */
const PENDING = 0x8000_0000;

export class RevocationMap {
  readonly #words: Uint32Array;
  readonly #granules: number;

  constructor(buffer: SharedArrayBuffer, memoryBytes: number) {
    this.#granules = memoryBytes >>> 4;
    if (buffer.byteLength < RevocationMap.bytesFor(memoryBytes)) throw new RangeError('revocation buffer too small');
    this.#words = new Uint32Array(buffer);
  }

  static bytesFor(memoryBytes: number): number {
    return ((memoryBytes >>> 4) + 1) * 4;
  }

  /** The current epoch; 0 until the first revocation. */
  get epoch(): number {
    return this.#words[0]!;
  }

  /** True when `cap` was derived before its base granule was last revoked. */
  isRevoked(cap: Capability): boolean {
    const now = this.#words[0]!;
    if (now === 0) return false;
    const birth = cap.birth;
    if (birth >= now) return false;
    const g = cap.baseNumber / 16;
    if (!(g < this.#granules)) return false; // unbacked ranges (tokens, otypes) are never revoked
    const stamp = this.#words[1 + Math.floor(g)]!;
    return (stamp & PENDING) !== 0 || stamp > birth;
  }

  /** True while granule `g` is marked and not yet swept (stored capabilities to it are dying). */
  pending(g: number): boolean {
    return g < this.#granules && (this.#words[1 + Math.floor(g)]! & PENDING) !== 0;
  }

  /** The sweep of [first, end) is done: stored capabilities to it are gone, the stamps stay. */
  swept(firstGranule: number, endGranule: number): void {
    for (let i = 1 + firstGranule, end = 1 + Math.min(endGranule, this.#granules); i < end; i++) this.#words[i] = (this.#words[i]! & ~PENDING) >>> 0;
  }

  /** Start a new epoch and stamp granules [first, end) with it; returns the epoch. */
  mark(firstGranule: number, endGranule: number): number {
    const epoch = Atomics.add(this.#words, 0, 1) + 1;
    this.#words.fill((epoch | PENDING) >>> 0, 1 + firstGranule, 1 + Math.min(endGranule, this.#granules));
    return epoch;
  }
}
