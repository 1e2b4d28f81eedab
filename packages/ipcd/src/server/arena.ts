/**
 * ipcd's own memory for COCHANNEL rings and COCARRIER copies. Freed regions are cleared and
 * revoked (through a quarantine: registers at once, memory in batched sweeps) before reuse,
 * so a capability to an old message or ring can never read what comes next.
 * The allocator starts one granule into the arena: revocation kills capabilities by base,
 * and the arena's own capability must never share a base with a freed region.
 */
import { Quarantine, RegionAllocator, type Capability, type CapMachine, type Region } from '@comsg/capmachine';

export interface Allocation {
  readonly region: Region;
  /** Full (LOAD|STORE) capability with exactly the region's bounds. */
  readonly cap: Capability;
}

const ZEROES = new Uint8Array(1 << 16);

export class Arena {
  readonly #m: CapMachine;
  readonly #arena: Capability;
  readonly #alloc: RegionAllocator;
  readonly #quarantine: Quarantine;
  #inUse = 0;

  /** `quarantineBytes`: freed bytes held before one revocation sweep releases them all. */
  constructor(machine: CapMachine, arena: Capability, quarantineBytes = Math.max(64 << 10, Number(arena.length) / 8)) {
    this.#m = machine;
    this.#arena = arena;
    this.#alloc = new RegionAllocator(arena.baseNumber + 16, arena.topNumber);
    this.#quarantine = new Quarantine(machine, quarantineBytes);
    this.#zero(arena);
  }

  /** Bytes allocated or waiting in quarantine. */
  get bytesInUse(): number {
    return this.#inUse;
  }

  get quarantine(): Quarantine {
    return this.#quarantine;
  }

  allocate(bytes: number): Allocation | undefined {
    const region = this.#quarantine.orSweep(() => this.#alloc.allocate(Math.max(1, bytes), 0));
    if (region === undefined) return undefined;
    this.#inUse += region.length;
    // Free regions are zero: cleared at start and on every free.
    const cap = this.#m.restrict(this.#arena, BigInt(region.base - this.#arena.baseNumber), BigInt(region.length));
    return { region, cap };
  }

  /** Clear the region, revoke it (registers now, memory at the next sweep), reuse it after. */
  free(a: Allocation): void {
    this.#zero(a.cap);
    this.#quarantine.add(a.cap, () => {
      this.#alloc.free(a.region.base);
      this.#inUse -= a.region.length;
    });
  }

  #zero(cap: Capability): void {
    const n = Number(cap.length);
    for (let off = 0; off < n; off += ZEROES.length) this.#m.store(cap, off, ZEROES.subarray(0, Math.min(ZEROES.length, n - off)));
  }
}
