/**
 * nsd's handles: 16-byte tokens carved from an unbacked token space, sealed with one otype per
 * namespace type / object type. The token's address encodes (generation, slot), so a handle to
 * a recycled slot names an old generation and is refused. Rights travel as permission bits.
 */
import { Perm, type Capability, type CapMachine } from '@comsg/capmachine';
import { TokenMint } from '@comsg/abi';
import type { NsTypeName, ObjTypeName } from '../protocol/types.js';

const BASE_PERMS = Perm.GLOBAL | Perm.LOAD;

export interface OpenedHandle<T extends string> {
  readonly slot: number;
  readonly gen: number;
  readonly type: T;
  readonly perms: number;
}

/** The authority nsd is started with. */
export interface NsdKeys {
  /** SEAL|UNSEAL for 16 consecutive otypes (nsd uses 9). */
  readonly types: Capability;
  /** Unbacked token space for namespace handles (≥ 2^32 bytes). */
  readonly nsTokens: Capability;
  /** Unbacked token space for object handles (≥ 2^32 bytes). */
  readonly objTokens: Capability;
}

const NS_ORDER: readonly NsTypeName[] = ['ROOT', 'APPLICATION', 'PRIVATE', 'PUBLIC', 'LIBRARY'];
const OBJ_ORDER: readonly ObjTypeName[] = ['RESERVATION', 'COMMAP', 'COPORT', 'COSERVICE'];

/** One TokenMint per handle type: namespace types share one token space, object types the other. */
export class HandleCodec {
  readonly #ns = new Map<NsTypeName, TokenMint>();
  readonly #obj = new Map<ObjTypeName, TokenMint>();
  readonly #nsByOtype = new Map<number, NsTypeName>();
  readonly #objByOtype = new Map<number, ObjTypeName>();

  constructor(machine: CapMachine, keys: NsdKeys) {
    const mint = (offset: number, space: Capability): TokenMint => {
      const key = machine.setAddress(keys.types, keys.types.base + BigInt(offset));
      if (!key.tag) throw new Error('nsd: sealing capability covers too few otypes');
      return new TokenMint(machine, space, key);
    };
    NS_ORDER.forEach((type, i) => {
      const m = mint(i, keys.nsTokens);
      this.#ns.set(type, m);
      this.#nsByOtype.set(m.otype, type);
    });
    OBJ_ORDER.forEach((type, i) => {
      const m = mint(8 + i, keys.objTokens);
      this.#obj.set(type, m);
      this.#objByOtype.set(m.otype, type);
    });
  }

  mintNs(slot: number, gen: number, type: NsTypeName, rights: number): Capability {
    return this.#ns.get(type)!.mint(slot, gen, BASE_PERMS | Perm.LOAD_CAP | rights);
  }

  mintObj(slot: number, gen: number, type: ObjTypeName, rights: number): Capability {
    return this.#obj.get(type)!.mint(slot, gen, BASE_PERMS | rights);
  }

  #open<T extends string>(cap: unknown, byOtype: Map<number, T>, mints: Map<T, TokenMint>): OpenedHandle<T> | undefined {
    if (typeof cap !== 'object' || cap === null || !('otype' in cap)) return undefined;
    const type = byOtype.get((cap as Capability).otype);
    const t = type === undefined ? undefined : mints.get(type)!.open(cap);
    return t === undefined ? undefined : { ...t, type: type! };
  }

  openNs(cap: unknown): OpenedHandle<NsTypeName> | undefined {
    return this.#open(cap, this.#nsByOtype, this.#ns);
  }

  openObj(cap: unknown): OpenedHandle<ObjTypeName> | undefined {
    return this.#open(cap, this.#objByOtype, this.#obj);
  }
}
