/**
 * Hands out object types. Authority over a range of otypes is a sealing capability whose
 * bounds are that range; allocation narrows it, so a sealing capability for one otype can
 * never seal or unseal another (CUnseal demands address = otype inside the bounds).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability } from './capability.js';
import { representableAlignmentMask, representableLength } from './cc128-math.js';
import type { CapMachine } from './machine.js';
import { Otype } from './otype.js';
import { Perm, PermSet } from './perms.js';

export interface OtypesExhausted {
  readonly _tag: 'OtypesExhausted';
  readonly requested: number;
  readonly remaining: number;
}

export class TypeManager {
  readonly #machine: CapMachine;
  readonly #authority: Capability;
  #next: bigint;

  constructor(machine: CapMachine, authority: Capability) {
    if (!authority.tag || authority.sealed || !authority.has(Perm.SEAL)) {
      throw new TypeError('TypeManager needs a tagged, unsealed capability with SEAL');
    }
    this.#machine = machine;
    this.#authority = authority;
    this.#next = authority.base;
  }

  /** One past the last otype this manager may hand out. */
  get limit(): bigint {
    const top = this.#authority.top;
    const max = BigInt(Otype.MAX_SOFTWARE) + 1n;
    return top < max ? top : max;
  }

  get remaining(): number {
    return Number(this.limit - this.#next);
  }

  /**
   * A sealing capability for `count` fresh otypes (address = the first one), with
   * SEAL|UNSEAL|GLOBAL only. Its bounds are exact, aligned as CC128 requires.
   */
  allocate(count = 1): E.Either<OtypesExhausted, Capability> {
    const n = BigInt(Math.max(1, Math.floor(count)));
    const len = representableLength(n);
    const mask = representableAlignmentMask(n);
    const start = (this.#next + ~mask) & mask;
    if (start + len > this.limit || len < n) {
      return E.left({ _tag: 'OtypesExhausted', requested: count, remaining: this.remaining });
    }
    const m = this.#machine;
    const at = m.setAddress(this.#authority, start);
    const bounded = m.setBoundsExact(at, len);
    const cap = m.andPerm(bounded, PermSet.SEALCAP);
    if (!cap.tag) throw new Error(`type manager derived an untagged sealing capability at ${start}`);
    this.#next = start + len;
    return E.right(cap);
  }

  /** A manager for a sub-range, e.g. to give a co-process its own user otypes. */
  subManager(count: number): E.Either<OtypesExhausted, TypeManager> {
    return E.map((cap: Capability) => new TypeManager(this.#machine, cap))(this.allocate(count));
  }
}
