/** Namespace and namespace-object types, and the rights bits handles carry (spec §2.2–§2.5). */
import { Perm } from '@comsg/capmachine';
import { codeOf } from '@comsg/abi';

export const NsType = { ROOT: 1, APPLICATION: 2, PRIVATE: 4, PUBLIC: 8, LIBRARY: 16 } as const;
export type NsTypeName = keyof typeof NsType;
export const NsTypeC = codeOf<NsTypeName>('NsType', NsType);

export const ObjType = { RESERVATION: 0, COMMAP: 1, COPORT: 2, COSERVICE: 4 } as const;
export type ObjTypeName = keyof typeof ObjType;
export const ObjTypeC = codeOf<ObjTypeName>('ObjType', ObjType);

/** Namespace rights: RO (SW2), WR (SW3); OWN = both. WR implies read. */
export const NsRight = { RO: Perm.SW2, WR: Perm.SW3, OWN: Perm.SW2 | Perm.SW3 } as const;
/** Object rights: R = LOAD_CAP (fetch the stored object), W = STORE (fill a reservation), D = SW2 (delete). */
export const ObjRight = { R: Perm.LOAD_CAP, W: Perm.STORE, D: Perm.SW2 } as const;

export function nsRights(perms: number): { read: boolean; write: boolean; own: boolean } {
  const write = (perms & NsRight.WR) !== 0;
  const ro = (perms & NsRight.RO) !== 0;
  return { read: ro || write, write, own: ro && write };
}

export const ROOT_NAME = 'coproc';
