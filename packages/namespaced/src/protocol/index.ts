/** @comsg/namespaced/protocol — what clients need to talk to nsd: op declarations and types. */
export { cocreate } from './cocreate.js';
export { codrop } from './codrop.js';
export { coinsert } from './coinsert.js';
export { coselect } from './coselect.js';
export { coupdate } from './coupdate.js';
export { codelete } from './codelete.js';
export { NsRight, NsType, NsTypeC, ObjRight, ObjType, ObjTypeC, ROOT_NAME, nsRights, type NsTypeName, type ObjTypeName } from './types.js';
import { cocreate } from './cocreate.js';
import { codelete } from './codelete.js';
import { codrop } from './codrop.js';
import { coinsert } from './coinsert.js';
import { coselect } from './coselect.js';
import { coupdate } from './coupdate.js';
/** Every nsd op, for dispatch tables, docs and tracing. */
export const nsdOps = [cocreate, codrop, coinsert, coselect, coupdate, codelete] as const;
