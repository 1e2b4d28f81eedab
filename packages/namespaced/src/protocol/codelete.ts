import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';

/** Delete the object `nsobj` designates from `ns` (D on the handle and WR on `ns`). */
export const codelete = defineOp({
  name: 'CODELETE',
  daemon: 'nsd',
  summary: 'delete an object; its name becomes free and every handle to it invalid',
  args: t.type({ nsobj: TaggedCapC, ns: TaggedCapC }),
  argSlots: { nsobj: Reg.c0, ns: Reg.c1 },
  result: t.type({}),
  resultSlots: {},
  errors: ['EACCES', 'ENOENT', 'EPERM'],
});
