import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';
import { ObjTypeC } from './types.js';

/** Turn a reservation into a COPORT/COSERVICE/COMMAP object, once. */
export const coupdate = defineOp({
  name: 'COUPDATE',
  daemon: 'nsd',
  summary: 'fill a reservation (W right needed) with an object; one-shot',
  args: t.type({ nsobj: TaggedCapC, type: ObjTypeC, obj: TaggedCapC }),
  argSlots: { nsobj: Reg.c0, type: Reg.i0, obj: Reg.c1 },
  result: t.type({ nsobj: TaggedCapC }),
  resultSlots: { nsobj: Reg.c2 },
  errors: ['EPERM', 'ENODEV'],
});
