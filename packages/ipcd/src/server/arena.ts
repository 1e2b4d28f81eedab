/**
 * ipcd's own memory for COCHANNEL rings and COCARRIER copies. Freed regions are revoked
 * before reuse, so a capability to an old message or ring can never read what comes next.
 * The allocator starts one granule into the arena: revocation kills capabilities by base,
 * and the arena's own capability must never share a base with a freed region.
 */
import { RegionAllocator, type Capability, type CapMachine, type Region } from '@comsg/capmachine';

export interface Allocation {
  readonly region: Region;
  /** Full (LOAD|STORE) capability with exactly the region's bounds. */
  readonly cap: Capability;
}

export class Arena {
  readonly #m: CapMachine;
  readonly #arena: Capability;
  readonly #alloc: RegionAllocator;
  #inUse = 0;

  constructor(machine: CapMachine, arena: Capability) {
    this.#m = machine;
    this.#arena = arena;
    this.#alloc = new RegionAllocator(arena.baseNumber + 16, arena.topNumber);
  }

  get bytesInUse(): number {
    return this.#inUse;
  }

  allocate(bytes: number): Allocation | undefined {
    const region = this.#alloc.allocate(Math.max(1, bytes), 0);
    if (region === undefined) return undefined;
    this.#inUse += region.length;
    const cap = this.#m.restrict(this.#arena, BigInt(region.base - this.#arena.baseNumber), BigInt(region.length));
    this.#m.store(cap, 0, new Uint8Array(region.length)); // never hand out a previous owner's bytes
    return { region, cap };
  }

  /** Revoke every capability into the region, then make it reusable. */
  free(a: Allocation): void {
    this.#m.revoke(a.cap);
    this.#alloc.free(a.region.base);
    this.#inUse -= a.region.length;
  }
}
