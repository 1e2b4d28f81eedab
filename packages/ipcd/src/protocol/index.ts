/** ipcd's protocol: the op declarations clients and the server share, and coport constants. */
import { coclose } from './coclose.js';
import { coopen } from './coopen.js';
import { coportEntry } from './coport-entry.js';
import { coportMsgFree } from './coport-msg-free.js';
import { corecv } from './corecv.js';
import { cosend } from './cosend.js';

export { coclose, coopen, coportEntry, coportMsgFree, corecv, cosend };
export * from './types.js';
export * from './attachments.js';
export * from './entry.js';

/** Every ipcd op, in publication order. */
export const ipcdOps = [coopen, coclose, cosend, corecv, coportMsgFree, coportEntry] as const;
