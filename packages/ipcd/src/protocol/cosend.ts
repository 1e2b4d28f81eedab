import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';
import { attachmentFields, attachmentSlots } from './attachments.js';

/**
 * COCARRIER send: ipcd copies `len` bytes from `msg` (a LOAD-only view) into memory it owns
 * and queues the copy, with up to four attachments (`att0..3`, kinds in `kind0..3`).
 */
export const cosend = defineOp({
  name: 'COSEND',
  daemon: 'ipcd',
  summary: 'COCARRIER: copy a message (and attachments) into ipcd memory and queue it',
  args: t.type({
    port: TaggedCapC,
    msg: TaggedCapC,
    len: t.number,
    count: t.number,
    ...attachmentFields,
  }),
  argSlots: {
    port: Reg.c0,
    msg: Reg.c1,
    len: Reg.i0,
    count: Reg.i1,
    ...attachmentSlots,
  },
  result: t.type({ queued: t.number }),
  resultSlots: { queued: Reg.i0 },
  errors: ['EACCES', 'EAGAIN', 'EPIPE', 'EMSGSIZE', 'EOPNOTSUPP', 'ENOBUFS', 'ENOMEM'],
});
