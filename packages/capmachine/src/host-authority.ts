/**
 * What only boot code and tools hold: minting otypes and token spaces, and handing out fresh
 * shared regions. Both runtimes' address spaces expose it to the host (never to a program),
 * so the microkernel's boot is written once for either.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability } from './capability.js';
import type { BootedMachine } from './machine.js';
import { Perm, PermSet } from './perms.js';

export class HostAuthority {
  readonly #booted: BootedMachine;
  #tokenCursor = 1n << 40n;

  constructor(booted: BootedMachine) {
    this.#booted = booted;
  }

  /** A sealing capability (SEAL|UNSEAL) for `count` fresh kernel otypes, e.g. a daemon's handle types. */
  mintTypes(count: number): Capability {
    return E.getOrElseW((e: { _tag: string }) => {
      throw new Error(`cannot allocate ${count} otypes: ${e._tag}`);
    })(this.#booted.roots.kernelTypes.allocate(count));
  }

  /**
   * A capability over `bytes` of *unbacked* address space above physical memory, without
   * EXECUTE. A daemon carves 16-byte tokens out of it and seals them as handles: unforgeable
   * identities that no one can dereference (loads fault: nothing is there).
   */
  mintTokenSpace(bytes: number): Capability {
    const length = BigInt(bytes);
    const align = 1n << BigInt(Math.max(4, Math.ceil(Math.log2(bytes))));
    const base = ((this.#tokenCursor + align - 1n) / align) * align;
    this.#tokenCursor = base + length;
    const cap = this.#booted.machine.restrict(this.#booted.roots.everything, base, length, PermSet.DATA | Perm.CINVOKE | Perm.SW0 | Perm.SW1 | Perm.SW2 | Perm.SW3);
    if (!cap.tag) throw new Error('token space not representable');
    return cap;
  }

  /** A DATA capability over a region the caller allocated (zeroed here). */
  region(base: number, length: number): Capability {
    this.#booted.memory.fill(base, length, 0);
    return this.#booted.machine.restrict(this.#booted.roots.memory, BigInt(base), BigInt(length), PermSet.DATA);
  }
}
