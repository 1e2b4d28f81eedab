import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';
import { CoportTypeC } from './types.js';

/**
 * Open a coport of `type`. `capacity` sizes a COCHANNEL ring (0 = the default). The reply
 * carries the port handle (sealed, every right) and the type's entry for client-side code.
 */
export const coopen = defineOp({
  name: 'COOPEN',
  daemon: 'ipcd',
  summary: 'open a coport (COPIPE, COCARRIER or COCHANNEL); returns its handle and the type entry',
  args: t.type({ type: CoportTypeC, capacity: t.number }),
  argSlots: { type: Reg.i0, capacity: Reg.i1 },
  result: t.type({ port: TaggedCapC, entry: TaggedCapC }),
  resultSlots: { port: Reg.c0, entry: Reg.c1 },
  errors: ['ENOSPC', 'ENOMEM', 'EDQUOT'],
});
