/**
 * nsd's handles: 16-byte tokens carved from an unbacked token space, sealed with one otype per
 * namespace type / object type. The token's address encodes (generation, slot), so a handle to
 * a recycled slot names an old generation and is refused. Rights travel as permission bits.
 */
import { Capability, Perm, type CapMachine } from '@comsg/capmachine';
import { NsType, ObjType, type NsTypeName, type ObjTypeName } from '../protocol/types.js';

import { SLOT_LIMIT as MAX_SLOTS } from '@comsg/abi';
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

export class HandleCodec {
  readonly #m: CapMachine;
  readonly #keys: NsdKeys;
  readonly #nsKey = new Map<NsTypeName, Capability>();
  readonly #objKey = new Map<ObjTypeName, Capability>();
  readonly #byOtype = new Map<number, { kind: 'ns'; type: NsTypeName } | { kind: 'obj'; type: ObjTypeName }>();

  constructor(machine: CapMachine, keys: NsdKeys) {
    this.#m = machine;
    this.#keys = keys;
    NS_ORDER.forEach((type, i) => this.#addKey(i, { kind: 'ns', type }));
    OBJ_ORDER.forEach((type, i) => this.#addKey(8 + i, { kind: 'obj', type }));
  }

  #addKey(offset: number, what: { kind: 'ns'; type: NsTypeName } | { kind: 'obj'; type: ObjTypeName }): void {
    const key = this.#m.setAddress(this.#keys.types, this.#keys.types.base + BigInt(offset));
    if (!key.tag) throw new Error('nsd: sealing capability covers too few otypes');
    if (what.kind === 'ns') this.#nsKey.set(what.type, key);
    else this.#objKey.set(what.type, key);
    this.#byOtype.set(Number(key.address), what);
  }

  #token(space: Capability, slot: number, gen: number, perms: number): Capability {
    const index = BigInt(gen * MAX_SLOTS + slot);
    return this.#m.andPerm(this.#m.setBoundsExact(this.#m.setAddress(space, space.base + index * 16n), 16n), perms);
  }

  mintNs(slot: number, gen: number, type: NsTypeName, rights: number): Capability {
    return this.#m.seal(this.#token(this.#keys.nsTokens, slot, gen, BASE_PERMS | Perm.LOAD_CAP | rights), this.#nsKey.get(type)!);
  }

  mintObj(slot: number, gen: number, type: ObjTypeName, rights: number): Capability {
    return this.#m.seal(this.#token(this.#keys.objTokens, slot, gen, BASE_PERMS | rights), this.#objKey.get(type)!);
  }

  #open(cap: unknown, kind: 'ns' | 'obj'): OpenedHandle<string> | undefined {
    if (!Capability.is(cap) || !cap.tag || !cap.sealed) return undefined;
    const what = this.#byOtype.get(cap.otype);
    if (what === undefined || what.kind !== kind) return undefined;
    const key = kind === 'ns' ? this.#nsKey.get(what.type as NsTypeName)! : this.#objKey.get(what.type as ObjTypeName)!;
    const opened = this.#m.unseal(cap, key);
    const space = kind === 'ns' ? this.#keys.nsTokens : this.#keys.objTokens;
    if (!opened.tag || opened.length !== 16n) return undefined;
    const rel = opened.base - space.base;
    if (rel < 0n || rel % 16n !== 0n || opened.top > space.top) return undefined;
    const index = Number(rel / 16n);
    return { slot: index % MAX_SLOTS, gen: Math.floor(index / MAX_SLOTS), type: what.type, perms: opened.perms };
  }

  openNs(cap: unknown): OpenedHandle<NsTypeName> | undefined {
    return this.#open(cap, 'ns') as OpenedHandle<NsTypeName> | undefined;
  }

  openObj(cap: unknown): OpenedHandle<ObjTypeName> | undefined {
    return this.#open(cap, 'obj') as OpenedHandle<ObjTypeName> | undefined;
  }
}

export const nsTypeValue = (t: NsTypeName): number => NsType[t];
export const objTypeValue = (t: ObjTypeName): number => ObjType[t];
