import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';

/** Free a received COCARRIER message: only its receiver may, and the capability is revoked. */
export const coportMsgFree = defineOp({
  name: 'COPORT_MSG_FREE',
  daemon: 'ipcd',
  summary: 'COCARRIER: free a received message (receiver only); its capability is revoked',
  args: t.type({ port: TaggedCapC, msg: TaggedCapC }),
  argSlots: { port: Reg.c0, msg: Reg.c1 },
  result: t.type({}),
  resultSlots: {},
  errors: ['EACCES', 'ENOENT', 'EOPNOTSUPP', 'EPIPE'],
});
