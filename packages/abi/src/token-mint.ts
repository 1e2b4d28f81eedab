/**
 * Handles as sealed tokens: a daemon carves 16-byte tokens out of an unbacked token space,
 * address = (generation × SLOT_LIMIT + slot) × 16, and seals them with its own otype. Only the
 * daemon can open them; a handle to a recycled slot carries an old generation.
 */
import { Capability, type CapMachine } from '@comsg/capmachine';
import { GENERATION_LIMIT, SLOT_LIMIT } from './slots.js';

/** Bytes of token space one mint needs: every (slot, generation) pair, 16 bytes each. */
export const MINT_SPACE_BYTES = 16 * SLOT_LIMIT * GENERATION_LIMIT;
/** Token space for a daemon with up to four mints (a family splits it in power-of-two parts). */
export const TOKEN_SPACE_BYTES = 4 * MINT_SPACE_BYTES;

export interface OpenedToken {
  readonly slot: number;
  readonly gen: number;
  readonly perms: number;
}

export class TokenMint {
  readonly #m: CapMachine;
  readonly #space: Capability;
  readonly #key: Capability;
  readonly #spaceBase: number;
  readonly #spaceTop: number;
  #lastOpened: Capability | undefined;
  #lastToken: OpenedToken | undefined;

  /** `key` seals (its address is the otype); `space` is the unbacked token range. */
  constructor(machine: CapMachine, space: Capability, key: Capability) {
    // Every generation of every slot must have its own token; a smaller space would mint
    // untagged handles once generations run past it.
    if (!space.tag || space.length < BigInt(MINT_SPACE_BYTES)) throw new RangeError(`token space must be a tagged capability over at least ${MINT_SPACE_BYTES} bytes`);
    this.#m = machine;
    this.#space = space;
    this.#key = key;
    this.#spaceBase = space.baseNumber;
    this.#spaceTop = space.topNumber;
    if (this.#spaceTop > Number.MAX_SAFE_INTEGER) throw new RangeError('token space must lie below 2^53');
  }

  /**
   * `count` mints for one daemon: otype i = types.base + i, token space split into `count`
   * equal parts — one kind of handle per mint.
   */
  static family(machine: CapMachine, types: Capability, tokens: Capability, count: number): TokenMint[] {
    // Power-of-two parts: exactly representable bounds, and each part the same size.
    let parts = 1n;
    while (parts < BigInt(count)) parts *= 2n;
    const part = tokens.length / parts;
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
    // Capabilities are immutable: a client streaming through one handle gets the same answer.
    if (opened === this.#lastOpened) return this.#lastToken;
    const token = this.#decode(opened);
    this.#lastOpened = opened;
    this.#lastToken = token;
    return token;
  }

  #decode(opened: Capability): OpenedToken | undefined {
    // Numeric bounds: token spaces sit far below 2^53, so these are exact (and this runs once
    // per coport operation, where BigInt arithmetic cost more than the rest of the check).
    const base = opened.baseNumber;
    const top = opened.topNumber;
    if (!opened.tag || opened.sealed || top - base !== 16) return undefined;
    const rel = base - this.#spaceBase;
    if (rel < 0 || rel % 16 !== 0 || top > this.#spaceTop) return undefined;
    const index = rel / 16;
    return Object.freeze({ slot: index % SLOT_LIMIT, gen: Math.floor(index / SLOT_LIMIT), perms: opened.perms });
  }
}
