/**
 * The co-process heap of an address space (either runtime): regions granted to a pid, zeroed,
 * and given back through revocation when their owner exits. An exited co-process's regions are
 * revoked for registers at once (every thread, every worker: the revocation map is shared)
 * and swept from memory when the quarantine fills or an allocation would fail; only then are
 * they reused, so nothing can read a later owner's data through an old capability.
 */
import type { Region, RegionAllocator } from './allocator.js';
import type { Capability } from './capability.js';
import type { BootedMachine } from './machine.js';
import { PermSet } from './perms.js';
import { Quarantine } from './quarantine.js';

export class GrantHeap {
  readonly #booted: BootedMachine;
  readonly #heap: RegionAllocator;
  readonly #quarantine: Quarantine;

  constructor(booted: BootedMachine, heap: RegionAllocator, quarantineBytes: number) {
    this.#booted = booted;
    this.#heap = heap;
    this.#quarantine = new Quarantine(booted.machine, quarantineBytes);
  }

  /** The default quarantine: a sixteenth of the heap, at least 64 KiB. */
  static defaultQuarantine(heapBytes: number): number {
    return Math.max(64 << 10, heapBytes / 16);
  }

  /** A zeroed region for `owner` (0 = the host); when the heap is full, sweep the quarantine and try again. */
  allocate(bytes: number, owner: number): Region | undefined {
    const r = this.#quarantine.orSweep(() => this.#heap.allocate(bytes, owner));
    if (r !== undefined) this.#booted.memory.fill(r.base, r.length, 0);
    return r;
  }

  /** Hand an exited owner's regions back (and empty its set): revoked now, reused after the sweep. */
  reclaim(grants: Set<number>): void {
    for (const base of grants) {
      const r = this.#heap.regionAt(base);
      if (r === undefined) continue;
      const region: Capability = this.#booted.machine.restrict(this.#booted.roots.memory, BigInt(r.base), BigInt(r.length), PermSet.DATA);
      this.#quarantine.add(region, () => void this.#heap.free(r.base));
    }
    grants.clear();
  }

  /** Bytes waiting for the next sweep. */
  get pending(): number {
    return this.#quarantine.bytes;
  }
}
