import {
  ALMIGHTY_PESBT,
  MASK64,
  NULL_PESBT,
  decodeBounds,
  toMemoryPesbt,
  type DecodedBounds,
} from './cc128-math.js';
import { Otype, otypeSigned } from './otype.js';
import { PERMS_ALL, Perm, permNames, permsFromField } from './perms.js';

/** Only code holding this token may construct a Capability; it never leaves capmachine. */
const MINT: unique symbol = Symbol('capmachine.mint');

/**
 * A 128-bit CHERI capability (CC128) plus its out-of-band tag, held "in a register".
 *
 * Values are immutable and unforgeable: the constructor refuses callers without capmachine's
 * private token, and every machine operation brand-checks its operands (`#pesbt in x`), so an
 * object dressed up with Capability's prototype is rejected. Derivation happens only through
 * capmachine's operations, which enforce monotonicity. Bounds are decoded from the encoding
 * (the truth) on first use and cached.
 */
export class Capability {
  readonly #tag: boolean;
  readonly #address: bigint;
  /** Raw (in-register) pesbt: perms, flags, otype and the compressed bounds. */
  readonly #pesbt: bigint;
  /** perms field, reserved and flags: pesbt bits 63:45 as a 19-bit number. */
  readonly #upper: number;
  readonly #otype: number;
  readonly #perms: number;
  readonly #addrN: number;
  /** Revocation epoch this value was derived under (see revocation.ts); not architectural. */
  readonly #birth: number;
  #bounds: DecodedBounds | undefined;
  #baseN = 0;
  #topN = 0;

  /** @internal Use the machine's operations; external callers cannot supply the token. */
  constructor(token: typeof MINT, tag: boolean, address: bigint, pesbt: bigint, birth = 0) {
    if (token !== MINT) throw new TypeError('Capabilities are created only by capmachine');
    this.#tag = tag;
    this.#birth = birth;
    this.#address = address & MASK64;
    this.#pesbt = pesbt & MASK64;
    const hi = Number(this.#pesbt >> 27n);
    this.#otype = hi % 0x40000;
    this.#upper = Math.floor(hi / 0x40000);
    this.#perms = permsFromField(this.#upper >>> 3);
    this.#addrN = Number(this.#address);
    Object.freeze(this);
  }

  /** True when `x` is a real Capability (not a look-alike object). */
  static is(x: unknown): x is Capability {
    return typeof x === 'object' && x !== null && #pesbt in x;
  }

  get tag(): boolean {
    return this.#tag;
  }
  get address(): bigint {
    return this.#address;
  }
  /** @internal The revocation epoch at which this value was last derived from live authority. */
  get birth(): number {
    return this.#birth;
  }
  /** The raw (in-register) upper 64 bits. */
  get pesbt(): bigint {
    return this.#pesbt;
  }
  /** The upper 64 bits as stored in memory (XOR-ed so NULL is all zeros); CGetHigh. */
  get memoryPesbt(): bigint {
    return toMemoryPesbt(this.#pesbt);
  }
  /** Architectural permissions word (CGetPerm layout). */
  get perms(): number {
    return this.#perms;
  }
  get flags(): number {
    return this.#upper & 1;
  }
  /** The two reserved bits; must be zero on any tagged capability. */
  get reserved(): number {
    return (this.#upper >>> 1) & 3;
  }
  /** Raw 18-bit otype (0x3FFFF = unsealed). */
  get otype(): number {
    return this.#otype;
  }
  /** CGetType: reserved otypes sign-extended (unsealed = −1, sentry = −2). */
  get type(): number {
    return otypeSigned(this.#otype);
  }
  get sealed(): boolean {
    return this.#otype !== Otype.UNSEALED;
  }
  get isSentry(): boolean {
    return this.#otype === Otype.SENTRY;
  }

  /** Decoded bounds fields (exponent, B, T) — computed once. */
  get decoded(): DecodedBounds {
    if (this.#bounds === undefined) {
      const d = decodeBounds(this.#pesbt, this.#address);
      this.#bounds = d;
      this.#baseN = Number(d.base);
      this.#topN = Number(d.top);
    }
    return this.#bounds;
  }
  get base(): bigint {
    return this.decoded.base;
  }
  /** One past the last authorised byte; up to 2^64 (65 bits). */
  get top(): bigint {
    return this.decoded.top;
  }
  /** top − base, up to 2^64 (CGetLen would saturate; this does not). */
  get length(): bigint {
    const d = this.decoded;
    return d.top - d.base;
  }
  /** address − base (mod 2^64). */
  get offset(): bigint {
    return (this.#address - this.decoded.base) & MASK64;
  }

  /**
   * @internal Numeric views for the hot paths. Exact below 2^53; above, the rounding keeps
   * every comparison against an in-memory address correct (memory is far below 2^53).
   */
  get addressNumber(): number {
    return this.#addrN;
  }
  /** @internal */
  get baseNumber(): number {
    if (this.#bounds === undefined) void this.decoded;
    return this.#baseN;
  }
  /** @internal */
  get topNumber(): number {
    if (this.#bounds === undefined) void this.decoded;
    return this.#topN;
  }

  /**
   * @internal The dereference check of spec §2.6 in one call on private fields (the hot path
   * of every load/store): returns the effective address, or a negative CHERI cause code.
   * Static, so that reading `cap`'s private fields is the brand check: a look-alike object
   * throws a TypeError here, where an instance method would run the look-alike's own.
   */
  static accessCheck(cap: Capability, offset: number, length: number, perm: number): number {
    if (!cap.#tag) return -0x02;
    if (cap.#otype !== 0x3ffff) return -0x03;
    // A missing LOAD is reported first (an atomic read-modify-write needs both).
    if ((cap.#perms & perm) !== perm) return (perm & ~cap.#perms & Perm.LOAD) !== 0 ? -0x12 : -0x13;
    if (cap.#bounds === undefined) void cap.decoded;
    const addr = cap.#addrN + offset;
    if (addr >= cap.#baseN && addr + length <= cap.#topN && length >= 0 && Number.isInteger(addr)) return addr;
    return -0x01;
  }

  has(perm: number): boolean {
    return (this.perms & perm) === perm;
  }

  /** CTestSubset: same tag, and this one's bounds and perms lie within `outer`'s. */
  isSubsetOf(outer: Capability): boolean {
    return (
      this.#tag === outer.tag &&
      this.base >= outer.base &&
      this.top <= outer.top &&
      (this.perms & ~outer.perms) === 0
    );
  }

  /** CSEQX: every bit and the tag equal. */
  equalsExact(other: Capability): boolean {
    return this.#tag === other.tag && this.#address === other.address && this.#pesbt === other.pesbt;
  }

  /** Readable form in the spirit of CheriBSD's `%#p`. */
  toString(): string {
    const p = this.perms;
    const flags =
      (p & Perm.LOAD ? 'r' : '') +
      (p & Perm.STORE ? 'w' : '') +
      (p & Perm.EXECUTE ? 'x' : '') +
      (p & Perm.LOAD_CAP ? 'R' : '') +
      (p & Perm.STORE_CAP ? 'W' : '') +
      (p & Perm.SEAL ? 'S' : '') +
      (p & Perm.UNSEAL ? 'U' : '') +
      (p & Perm.CINVOKE ? 'I' : '');
    const seal =
      this.#otype === Otype.UNSEALED ? '' : this.isSentry ? ' (sentry)' : ` (sealed 0x${this.#otype.toString(16)})`;
    const tag = this.#tag ? '' : ' (invalid)';
    return `0x${this.#address.toString(16)} [${flags},0x${this.base.toString(16)}-0x${this.top.toString(16)}]${seal}${tag}`;
  }

  /** Plain description of every field, for logs, JSON and tools. */
  describe(): CapabilityFields {
    return describeFields(this.#tag, this.#address, this.#pesbt);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Capability ${this.toString()}`;
  }
}

/** Every architectural field of a capability as plain data. Holding one grants nothing. */
export interface CapabilityFields {
  readonly tag: boolean;
  readonly address: bigint;
  readonly pesbt: bigint;
  readonly base: bigint;
  readonly top: bigint;
  readonly length: bigint;
  readonly perms: number;
  readonly permNames: readonly string[];
  readonly otype: number;
  readonly type: number;
  readonly sealed: boolean;
  readonly flags: number;
  readonly reserved: number;
  readonly exponent: bigint;
  readonly internalExponent: boolean;
}

export function describeFields(tag: boolean, address: bigint, pesbt: bigint): CapabilityFields {
  const d = decodeBounds(pesbt & MASK64, address & MASK64);
  const hi = Number((pesbt & MASK64) >> 27n);
  const otype = hi % 0x40000;
  const upper = Math.floor(hi / 0x40000);
  const perms = permsFromField(upper >>> 3);
  return Object.freeze({
    tag,
    address: address & MASK64,
    pesbt: pesbt & MASK64,
    base: d.base,
    top: d.top,
    length: d.top - d.base,
    perms,
    permNames: permNames(perms),
    otype,
    type: otypeSigned(otype),
    sealed: otype !== Otype.UNSEALED,
    flags: upper & 1,
    reserved: (upper >>> 1) & 3,
    exponent: d.exponent,
    internalExponent: d.internalExponent,
  });
}

/** @internal Construct a capability from its bits. Not exported from the package. */
export function mint(tag: boolean, address: bigint, pesbt: bigint, birth = 0): Capability {
  return new Capability(MINT, tag, address, pesbt, birth);
}

/** @internal The same bits stamped with a newer birth epoch (derivation from live authority). */
export function rebirth(cap: Capability, birth: number): Capability {
  return new Capability(MINT, cap.tag, cap.address, cap.pesbt, birth);
}

/** The NULL capability: all zeros in memory, untagged. */
export const NULL_CAP: Capability = mint(false, 0n, NULL_PESBT);

/** @internal The reset capability: every permission over the whole address range. */
export function almighty(address = 0n): Capability {
  return mint(true, address, ALMIGHTY_PESBT);
}

/** An untagged capability with only an address: how an integer lives in a cap register. */
export function nullWithAddress(address: bigint): Capability {
  return mint(false, address, NULL_PESBT);
}

export const PERMS_ALMIGHTY = PERMS_ALL;
