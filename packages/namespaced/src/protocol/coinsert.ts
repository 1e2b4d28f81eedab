import * as t from 'io-ts';
import { NameC, OptionalCapC, Reg, TaggedCapC, defineOp } from '@comsg/abi';
import { ObjTypeC } from './types.js';

/** Insert an object (or a RESERVATION, with no object) named `name` into `ns`. */
export const coinsert = defineOp({
  name: 'COINSERT',
  daemon: 'nsd',
  summary: 'insert a named object; a RESERVATION claims the name for a later coupdate',
  args: t.type({ name: NameC, type: ObjTypeC, obj: OptionalCapC, ns: TaggedCapC }),
  argSlots: { name: Reg.name, type: Reg.i0, obj: Reg.c1, ns: Reg.c0 },
  result: t.type({ nsobj: TaggedCapC }),
  resultSlots: { nsobj: Reg.c2 },
  errors: ['EACCES', 'EEXIST', 'ENOSPC', 'EDQUOT'],
});
