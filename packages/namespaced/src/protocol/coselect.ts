import * as t from 'io-ts';
import { NameC, OptionalCapC, Reg, TaggedCapC, defineOp } from '@comsg/abi';
import { ObjTypeC } from './types.js';

/** Look up the object named `name` of type `type` in `ns` (never in child namespaces). */
export const coselect = defineOp({
  name: 'COSELECT',
  daemon: 'nsd',
  summary: 'find a named object of a given type; returns a handle and the stored object',
  args: t.type({ name: NameC, type: ObjTypeC, ns: TaggedCapC }),
  argSlots: { name: Reg.name, type: Reg.i0, ns: Reg.c0 },
  result: t.type({ nsobj: TaggedCapC, obj: OptionalCapC }),
  resultSlots: { nsobj: Reg.c2, obj: Reg.c1 },
  errors: ['EACCES', 'ENOENT'],
});
