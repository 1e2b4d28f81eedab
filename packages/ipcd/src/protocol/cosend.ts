import * as t from 'io-ts';
import { OptionalCapC, Reg, TaggedCapC, defineOp } from '@comsg/abi';

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
    att0: OptionalCapC,
    att1: OptionalCapC,
    att2: OptionalCapC,
    att3: OptionalCapC,
    kind0: t.number,
    kind1: t.number,
    kind2: t.number,
    kind3: t.number,
  }),
  argSlots: {
    port: Reg.c0,
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
  result: t.type({ queued: t.number }),
  resultSlots: { queued: Reg.i0 },
  errors: ['EACCES', 'EAGAIN', 'EPIPE', 'EMSGSIZE', 'EOPNOTSUPP', 'ENOBUFS', 'ENOMEM'],
});
