/**
 * Handles as sealed tokens: a daemon carves 16-byte tokens out of an unbacked token space,
 * address = (generation × SLOT_LIMIT + slot) × 16, and seals them with its own otype. Only the
 * daemon can open them; a handle to a recycled slot carries an old generation.
 */
import { Capability, type CapMachine } from '@comsg/capmachine';
import { SLOT_LIMIT } from './slots.js';

export interface OpenedToken {
  readonly slot: number;
  readonly gen: number;
  readonly perms: number;
}

export class TokenMint {
  readonly #m: CapMachine;
  readonly #space: Capability;
  readonly #key: Capability;

  /** `key` seals (its address is the otype); `space` is the unbacked token range. */
  constructor(machine: CapMachine, space: Capability, key: Capability) {
    this.#m = machine;
    this.#space = space;
    this.#key = key;
  }

  /**
   * `count` mints for one daemon: otype i = types.base + i, token space split into `count`
   * equal parts — one kind of handle per mint.
   */
  static family(machine: CapMachine, types: Capability, tokens: Capability, count: number): TokenMint[] {
    const part = tokens.length / BigInt(count);
    return Array.from({ length: count }, (_, i) => {
      const space = machine.setBounds(machine.setAddress(tokens, tokens.base + part * BigInt(i)), part);
      return new TokenMint(machine, space, machine.setAddress(types, types.base + BigInt(i)));
    });
  }

  get otype(): number {
    return Number(this.#key.address);
  }

  mint(slot: number, gen: number, perms: number): Capability {
    const index = BigInt(gen * SLOT_LIMIT + slot);
    const m = this.#m;
    const token = m.andPerm(m.setBoundsExact(m.setAddress(this.#space, this.#space.base + index * 16n), 16n), perms);
    return m.seal(token, this.#key);
  }

  /** Seal any capability with this mint's type (e.g. a code entry for CInvoke). */
  seal(cap: Capability): Capability {
    return this.#m.seal(cap, this.#key);
  }

  /** True if `cap` is a live handle of this mint's type (cheap: no unsealing). */
  owns(cap: unknown): cap is Capability {
    return Capability.is(cap) && cap.tag && cap.otype === this.otype;
  }

  open(cap: unknown): OpenedToken | undefined {
    if (!Capability.is(cap) || !cap.tag || cap.otype !== this.otype) return undefined;
    return this.decode(this.#m.unseal(cap, this.#key));
  }

  /** Decode an already unsealed token (what CInvoke hands invoked code). */
  decode(opened: Capability): OpenedToken | undefined {
    if (!opened.tag || opened.sealed || opened.length !== 16n) return undefined;
    const rel = opened.base - this.#space.base;
    if (rel < 0n || rel % 16n !== 0n || opened.top > this.#space.top) return undefined;
    const index = Number(rel / 16n);
    return { slot: index % SLOT_LIMIT, gen: Math.floor(index / SLOT_LIMIT), perms: opened.perms };
  }
}
