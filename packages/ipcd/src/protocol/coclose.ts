import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';

/**
 * Close a coport (needs the CLOSE right): no more sends; every waiter wakes with CLOSED and
 * gets EPIPE once the port is drained; received COCARRIER messages are freed (revoked).
 */
export const coclose = defineOp({
  name: 'COCLOSE',
  daemon: 'ipcd',
  summary: 'close a coport: sends fail with EPIPE, receivers drain then get EPIPE, waiters wake',
  args: t.type({ port: TaggedCapC }),
  argSlots: { port: Reg.c0 },
  result: t.type({}),
  resultSlots: {},
  errors: ['EACCES', 'EPIPE'],
});
