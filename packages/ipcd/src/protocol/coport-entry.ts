import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';
import { CoportTypeC } from './types.js';

/**
 * The entry of a coport type: a code capability sealed with the type's otype. CInvoking it
 * with a port handle runs ipcd's client-side code (ring and pipe copies, copoll) on the
 * caller's thread — the COCHANNEL/COPIPE data path never calls the daemon.
 */
export const coportEntry = defineOp({
  name: 'COPORT_ENTRY',
  daemon: 'ipcd',
  summary: 'the sealed CInvoke entry of a coport type (client-side data path and copoll)',
  args: t.type({ type: CoportTypeC }),
  argSlots: { type: Reg.i0 },
  result: t.type({ entry: TaggedCapC }),
  resultSlots: { entry: Reg.c0 },
  errors: [],
});
