import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';

/** Remove namespace `ns` from `parent` (OWN required); non-empty needs `recursive`. */
export const codrop = defineOp({
  name: 'CODROP',
  daemon: 'nsd',
  summary: 'drop a namespace the caller owns; every handle to it (and, if recursive, its contents) becomes invalid',
  args: t.type({ ns: TaggedCapC, parent: TaggedCapC, recursive: t.number }),
  argSlots: { ns: Reg.c0, parent: Reg.c1, recursive: Reg.i0 },
  result: t.type({ removed: t.number }),
  resultSlots: { removed: Reg.i1 },
  errors: ['EACCES', 'ENOENT', 'ENOTEMPTY'],
});
