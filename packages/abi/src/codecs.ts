/**
 * io-ts codecs for what crosses a cocall boundary. A capability cannot be decoded from plain
 * data: `CapabilityC` accepts only values capmachine minted (brand check), so a forged
 * look-alike fails decoding instead of reaching a handler.
 */
import * as t from 'io-ts';
import { Capability } from '@comsg/capmachine';
import { NAME_MAX } from './block.js';

export const CapabilityC = new t.Type<Capability, Capability, unknown>(
  'Capability',
  (u): u is Capability => Capability.is(u),
  (u, c) => (Capability.is(u) ? t.success(u) : t.failure(u, c, 'not a capability')),
  t.identity,
);

/** A capability that carries a tag (an untagged one is NULL-ish data). */
export const TaggedCapC = new t.Type<Capability, Capability, unknown>(
  'TaggedCapability',
  (u): u is Capability => Capability.is(u) && u.tag,
  (u, c) => (Capability.is(u) && u.tag ? t.success(u) : t.failure(u, c, 'untagged capability')),
  t.identity,
);

/** Either a tagged capability or "none" (an untagged slot). */
export const OptionalCapC = new t.Type<Capability | undefined, Capability | undefined, unknown>(
  'OptionalCapability',
  (u): u is Capability | undefined => u === undefined || (Capability.is(u) && u.tag),
  (u, c) => (u === undefined ? t.success(undefined) : Capability.is(u) ? t.success(u.tag ? u : undefined) : t.failure(u, c, 'not a capability')),
  (a) => a,
);

export interface NameBrand {
  readonly Name: unique symbol;
}
/** Names: `[A-Za-z0-9._-]{1,91}`, byte-exact. */
export const NAME_PATTERN = new RegExp(`^[A-Za-z0-9._-]{1,${NAME_MAX}}$`);
export const NameC = t.brand(t.string, (s): s is t.Branded<string, NameBrand> => NAME_PATTERN.test(s), 'Name');
export type Name = t.TypeOf<typeof NameC>;

export const Int32C = t.brand(
  t.number,
  (n): n is t.Branded<number, { readonly Int32: unique symbol }> => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  'Int32',
);

/** A small enumeration of integer codes, e.g. namespace types. */
export function codeOf<K extends string>(name: string, values: Readonly<Record<K, number>>): t.Type<K, number, unknown> {
  const byValue = new Map<number, K>((Object.keys(values) as K[]).map((k) => [values[k], k]));
  return new t.Type<K, number, unknown>(
    name,
    (u): u is K => typeof u === 'string' && u in values,
    (u, c) => {
      const k = typeof u === 'number' ? byValue.get(u) : undefined;
      return k === undefined ? t.failure(u, c, `not a ${name}`) : t.success(k);
    },
    (k) => values[k],
  );
}
