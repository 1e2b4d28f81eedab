/**
 * The CC128 codec as a public namespace (`cc128.decode`, `cc128.setBounds`, …), bigint in and
 * out. Decoding bits yields a plain description, never authority: only the machine's
 * operations produce tagged capabilities.
 */
import { Capability, describeFields, type CapabilityFields } from './capability.js';
import { setBoundsDetailed, type SetBoundsResult } from './derive.js';
import { assertCapability } from './operand.js';

export {
  MEM_XOR_MASK,
  ALMIGHTY_PESBT,
  NULL_PESBT,
  decodeBounds,
  encodeBounds,
  fastRepresentable,
  preciseRepresentable,
  representableAlignmentMask,
  representableLength,
  toMemoryPesbt,
  fromMemoryPesbt,
  type DecodedBounds,
  type EncodedBounds,
} from './cc128-math.js';

/** Decode a raw (register-form) pesbt and address into every architectural field. */
export function decode(pesbt: bigint, address: bigint, tag = false): CapabilityFields {
  return describeFields(tag, address, pesbt);
}

/** The two 64-bit halves of a capability, raw and as stored in memory. */
export interface EncodedCapability {
  readonly tag: boolean;
  readonly address: bigint;
  readonly pesbt: bigint;
  readonly memoryPesbt: bigint;
}

export function encode(cap: Capability): EncodedCapability {
  assertCapability(cap, 0);
  return { tag: cap.tag, address: cap.address, pesbt: cap.pesbt, memoryPesbt: cap.memoryPesbt };
}

/** CSetBounds with ISAv9 semantics, reporting whether the bounds were exact. */
export function setBounds(cap: Capability, length: bigint): SetBoundsResult {
  return setBoundsDetailed(cap, length, 'v9', false);
}
