import * as t from 'io-ts';
import { OptionalCapC, Reg, TaggedCapC, defineOp } from '@comsg/abi';
import { attachmentFields, attachmentSlots } from './attachments.js';

/**
 * COCARRIER receive: dequeue one message. The reply is a read-only (LOAD-only) capability
 * bounded to ipcd's copy, valid until COPORT_MSG_FREE, close, or the receiver's exit. With
 * `max` > 0 a head message longer than `max` is refused (EMSGSIZE) and stays queued.
 */
export const corecv = defineOp({
  name: 'CORECV',
  daemon: 'ipcd',
  summary: 'COCARRIER: dequeue a message; returns a read-only capability to ipcd\'s copy',
  args: t.type({ port: TaggedCapC, max: t.number }),
  argSlots: { port: Reg.c0, max: Reg.i0 },
  result: t.type({
    msg: OptionalCapC,
    len: t.number,
    count: t.number,
    ...attachmentFields,
  }),
  resultSlots: {
    msg: Reg.c1,
    len: Reg.i0,
    count: Reg.i1,
    ...attachmentSlots,
  },
  errors: ['EACCES', 'EAGAIN', 'EPIPE', 'EOPNOTSUPP', 'EMSGSIZE'],
});
