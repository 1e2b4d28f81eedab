/**
 * First-fit allocator for regions of the address space. Every region is padded and aligned
 * so that a capability with *exactly* its bounds is representable in CC128 (CRRL/CRAM), and
 * to at least one 16-byte granule so capabilities can live inside it.
 */
import { representableAlignmentMask, representableLength } from './cc128-math.js';
import { GRANULE } from './tagged-memory.js';

export interface Region {
  readonly base: number;
  readonly length: number;
  readonly owner: number;
}

/** Size and alignment a region of `bytes` needs to be exactly representable. */
export function regionShape(bytes: number): { length: number; align: number } {
  const want = BigInt(Math.max(GRANULE, Math.ceil(bytes / GRANULE) * GRANULE));
  const length = Number(representableLength(want));
  const mask = representableAlignmentMask(want);
  const align = Math.max(GRANULE, Number((~mask + 1n) & ((1n << 64n) - 1n)) || GRANULE);
  return { length, align };
}

export class RegionAllocator {
  /** Free ranges sorted by base, never adjacent (merged on free). */
  #free: Array<{ base: number; length: number }>;
  readonly #used = new Map<number, Region>();

  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    this.#free = [{ base: start, length: end - start }];
  }

  /** A region of at least `bytes` for `owner`, or undefined when memory is exhausted. */
  allocate(bytes: number, owner: number): Region | undefined {
    if (!Number.isInteger(bytes) || bytes < 0) return undefined;
    const { length, align } = regionShape(bytes);
    for (let i = 0; i < this.#free.length; i++) {
      const f = this.#free[i]!;
      const base = Math.ceil(f.base / align) * align;
      const waste = base - f.base;
      if (waste + length > f.length) continue;
      const rest = f.length - waste - length;
      const replacement: Array<{ base: number; length: number }> = [];
      if (waste > 0) replacement.push({ base: f.base, length: waste });
      if (rest > 0) replacement.push({ base: base + length, length: rest });
      this.#free.splice(i, 1, ...replacement);
      const region = { base, length, owner };
      this.#used.set(base, region);
      return region;
    }
    return undefined;
  }

  /** Release a region by its base; false if no such region is allocated. */
  free(base: number): boolean {
    const region = this.#used.get(base);
    if (region === undefined) return false;
    this.#used.delete(base);
    let i = this.#free.findIndex((f) => f.base > base);
    if (i < 0) i = this.#free.length;
    this.#free.splice(i, 0, { base, length: region.length });
    // Merge with neighbours.
    const merged: Array<{ base: number; length: number }> = [];
    for (const f of this.#free) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.base + last.length === f.base) last.length += f.length;
      else merged.push({ ...f });
    }
    this.#free = merged;
    return true;
  }

  regionAt(base: number): Region | undefined {
    return this.#used.get(base);
  }

  /** Every region owned by `owner` (to reclaim at exit). */
  ownedBy(owner: number): Region[] {
    return [...this.#used.values()].filter((r) => r.owner === owner);
  }

  get bytesFree(): number {
    return this.#free.reduce((n, f) => n + f.length, 0);
  }

  get regions(): readonly Region[] {
    return [...this.#used.values()];
  }
}
