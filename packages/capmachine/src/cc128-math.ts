/**
 * CHERI Concentrate 128 bit arithmetic (CHERI-RISC-V ISAv9 / CHERI-MIPS cc128).
 *
 * Pure functions over bigints, kept free of any capability object so they can be
 * checked against the Sail-generated vectors one algorithm at a time. Everything works
 * on the *raw* pesbt (the in-register form); `toMemoryPesbt`/`fromMemoryPesbt` apply the
 * XOR mask that makes the all-zero memory pattern the NULL capability.
 */

export const MASK64 = (1n << 64n) - 1n;
const MASK65 = (1n << 65n) - 1n;
/** 2^64: the largest top a capability may have. */
export const TOP_MAX = 1n << 64n;

/** Mantissa width: B holds 14 bits, T stores 12 and infers its top two. */
export const MW = 14n;
/** Largest exponent needed to cover a 65-bit length. */
export const MAX_EXPONENT = 52n;
/** pesbt XOR mask: raw NULL pesbt, so memory NULL is all zeros. */
export const MEM_XOR_MASK = 0x0000_1fff_fc01_8004n;
/** The 27 bounds bits of pesbt (IE, T, B, with E folded into the low bits). */
export const EBT_MASK = (1n << 27n) - 1n;
/** Raw pesbt of the almighty (reset) capability: all perms, unsealed, bounds [0, 2^64). */
export const ALMIGHTY_PESBT = 0xffff_1fff_fc01_8004n;
/** Raw pesbt of NULL: no perms, unsealed, bounds [0, 2^64). */
export const NULL_PESBT = MEM_XOR_MASK;

export function toMemoryPesbt(raw: bigint): bigint {
  return raw ^ MEM_XOR_MASK;
}

export function fromMemoryPesbt(mem: bigint): bigint {
  return mem ^ MEM_XOR_MASK;
}

/** Every field the bounds encoding carries, plus the decoded bounds. */
export interface DecodedBounds {
  readonly base: bigint; // 64-bit
  readonly top: bigint; // 65-bit
  readonly exponent: bigint; // E as stored (before clamping to 52)
  readonly internalExponent: boolean; // IE
  readonly bField: bigint; // 14-bit B with inferred/zero low bits
  readonly tField: bigint; // 14-bit T with reconstructed top bits
}

/** Exponent, B and T as the encoding stores them (step 1–2 of spec §4.2). */
function bitsOf(pesbt: bigint): { e: bigint; ie: boolean; b: bigint; t: bigint } {
  const ie = ((pesbt >> 26n) & 1n) === 1n;
  let e: bigint;
  let b: bigint;
  let t: bigint;
  let lmsb: bigint;
  if (ie) {
    e = (((pesbt >> 14n) & 7n) << 3n) | (pesbt & 7n);
    b = ((pesbt >> 3n) & 0x7ffn) << 3n;
    t = ((pesbt >> 17n) & 0x1ffn) << 3n;
    lmsb = 1n;
  } else {
    e = 0n;
    b = pesbt & 0x3fffn;
    t = (pesbt >> 14n) & 0xfffn;
    lmsb = 0n;
  }
  const carry = t < (b & 0xfffn) ? 1n : 0n;
  t |= (((b >> 12n) + carry + lmsb) & 3n) << 12n;
  return { e, ie, b, t };
}

/**
 * Decode the bounds of a raw pesbt at an address (spec §4.2). Total: any 64-bit pattern
 * decodes, even ones that may never be tagged (top > 2^64, base > top).
 */
export function decodeBounds(pesbt: bigint, address: bigint): DecodedBounds {
  const { e, ie, b, t } = bitsOf(pesbt);
  const ec = e < MAX_EXPONENT ? e : MAX_EXPONENT;
  const a3 = (address >> (ec + 11n)) & 7n;
  const b3 = b >> 11n;
  const t3 = t >> 11n;
  const r3 = (b3 - 1n) & 7n;
  const aHi = a3 < r3 ? 1n : 0n;
  const bHi = b3 < r3 ? 1n : 0n;
  const tHi = t3 < r3 ? 1n : 0n;
  const cb = bHi - aHi;
  const ct = tHi - aHi;
  const aTop = ec + MW >= 64n ? 0n : address >> (ec + MW);
  let base = (((((aTop + cb) & MASK64) << MW) | b) << ec) & MASK65;
  let top = (((((aTop + ct) & MASK64) << MW) | t) << ec) & MASK65;
  const base2 = (base >> 63n) & 1n;
  const top2 = (top >> 63n) & 3n;
  if (ec < 51n && ((top2 - base2) & 3n) > 1n) top ^= 1n << 64n;
  base &= MASK64;
  return { base, top, exponent: e, internalExponent: ie, bField: b, tField: t };
}

/** Result of encoding requested bounds. */
export interface EncodedBounds {
  readonly ebt: bigint; // the 27 bounds bits to place in pesbt[26:0]
  readonly exact: boolean; // false when bounds had to be rounded outwards
  readonly exponent: bigint; // final exponent (0 when IE=0)
  readonly internalExponent: boolean;
}

/** Index of the most significant set bit of a positive bigint. */
function msbIndex(x: bigint): bigint {
  return BigInt(x.toString(2).length - 1);
}

/** Encode requested bounds [base, top) with top ≤ 2^64 (spec §4.4). */
export function encodeBounds(base: bigint, top: bigint): EncodedBounds {
  const len = (top - base) & MASK65;
  let e: bigint;
  if (len >= TOP_MAX) e = MAX_EXPONENT;
  else if (len < 1n << 13n) e = 0n;
  else e = msbIndex(len) - 12n;
  const ie = e !== 0n || ((len >> 12n) & 1n) === 1n;
  if (!ie) {
    const ebt = ((top & 0xfffn) << 14n) | (base & 0x3fffn);
    return { ebt, exact: true, exponent: 0n, internalExponent: false };
  }
  let bi = (base >> (e + 3n)) & 0x7ffn;
  let ti = (top >> (e + 3n)) & 0x7ffn;
  let lostB = (base & ((1n << (e + 3n)) - 1n)) !== 0n;
  let lostT = (top & ((1n << (e + 3n)) - 1n)) !== 0n;
  if (lostT) ti = (ti + 1n) & 0x7ffn;
  if ((((ti - bi) & 0x7ffn) >> 10n) & 1n) {
    e += 1n;
    lostB = (base & ((1n << (e + 3n)) - 1n)) !== 0n;
    lostT = (top & ((1n << (e + 3n)) - 1n)) !== 0n;
    bi = (base >> (e + 3n)) & 0x7ffn;
    ti = ((top >> (e + 3n)) + (lostT ? 1n : 0n)) & 0x7ffn;
  }
  const ebt =
    (1n << 26n) | ((e >> 3n) << 14n) | (e & 7n) | (bi << 3n) | ((ti & 0x1ffn) << 17n);
  return { ebt, exact: !(lostB || lostT), exponent: e, internalExponent: true };
}

/** Replace the bounds bits of a raw pesbt. */
export function withEbt(pesbt: bigint, ebt: bigint): bigint {
  return (pesbt & ~EBT_MASK & MASK64) | ebt;
}

/** CRAM: mask that aligns a base so a region of `length` bytes is exactly representable. */
export function representableAlignmentMask(length: bigint): bigint {
  const enc = encodeBounds(0n, length & MASK64);
  if (!enc.internalExponent) return MASK64;
  return ~((1n << (enc.exponent + 3n)) - 1n) & MASK64;
}

/** CRRL: the smallest exactly representable length ≥ `length` (mod 2^64). */
export function representableLength(length: bigint): bigint {
  const mask = representableAlignmentMask(length);
  return (length + (~mask & MASK64)) & mask & MASK64;
}

/**
 * The "fast" representability check hardware uses when an address moves by `inc`
 * (spec §4.8): conservative; never accepts an address the precise rule rejects.
 */
export function fastRepresentable(pesbt: bigint, oldAddress: bigint, newAddress: bigint): boolean {
  const { e, b } = bitsOf(pesbt);
  if (e >= 50n) return true;
  const inc = BigInt.asIntN(64, newAddress - oldAddress);
  const iTop = inc >> (e + MW);
  const iMid = (inc >> e) & 0x3fffn;
  const aMid = (oldAddress >> e) & 0x3fffn;
  const r = (((b >> 11n) - 1n) & 7n) << 11n;
  const diff = (r - aMid) & 0x3fffn;
  const diff1 = (diff - 1n) & 0x3fffn;
  if (iTop === 0n) return iMid < diff1;
  if (iTop === -1n) return iMid >= diff && r !== aMid;
  return false;
}

/** Precise rule: the same pesbt decodes to the same bounds at the new address. */
export function preciseRepresentable(pesbt: bigint, oldAddress: bigint, newAddress: bigint): boolean {
  const before = decodeBounds(pesbt, oldAddress);
  const after = decodeBounds(pesbt, newAddress);
  return before.base === after.base && before.top === after.top;
}

/**
 * Only these bounds patterns may ever carry a tag (spec §4.2 step 9), besides
 * base ≤ top ≤ 2^64 and zero reserved bits.
 */
export function boundsEncodingValid(pesbt: bigint): boolean {
  const { e, b, t } = bitsOf(pesbt);
  if (e >= 52n) return ((t >> 13n) & 1n) === 0n && ((b >> 12n) & 3n) === 0n;
  if (e === 51n) return ((b >> 13n) & 1n) === 0n;
  return true;
}
