import * as t from 'io-ts';
import { NameC, Reg, TaggedCapC, defineOp } from '@comsg/abi';
import { NsTypeC } from './types.js';

/** Create a namespace under `parent`, or join an existing PUBLIC/APPLICATION/LIBRARY one. */
export const cocreate = defineOp({
  name: 'COCREATE',
  daemon: 'nsd',
  summary: 'create a child namespace (OWN handle) or join a joinable one (WR handle)',
  args: t.type({ name: NameC, type: NsTypeC, parent: TaggedCapC }),
  argSlots: { name: Reg.name, type: Reg.i0, parent: Reg.c0 },
  result: t.type({ ns: TaggedCapC, created: t.number }),
  resultSlots: { ns: Reg.c1, created: Reg.i1 },
  errors: ['EACCES', 'EEXIST', 'ENOSPC', 'EDQUOT'],
});
