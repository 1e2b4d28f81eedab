import * as t from 'io-ts';
import { OptionalCapC, Reg, TaggedCapC, defineOp } from '@comsg/abi';

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
    att0: OptionalCapC,
    att1: OptionalCapC,
    att2: OptionalCapC,
    att3: OptionalCapC,
    kind0: t.number,
    kind1: t.number,
    kind2: t.number,
    kind3: t.number,
  }),
  resultSlots: {
    msg: Reg.c1,
    len: Reg.i0,
    count: Reg.i1,
    att0: Reg.c2,
    att1: Reg.c3,
    att2: Reg.c4,
    att3: Reg.c5,
    kind0: Reg.i2,
    kind1: Reg.i3,
    kind2: Reg.i4,
    kind3: Reg.i5,
  },
  errors: ['EACCES', 'EAGAIN', 'EPIPE', 'EOPNOTSUPP', 'EMSGSIZE'],
});
