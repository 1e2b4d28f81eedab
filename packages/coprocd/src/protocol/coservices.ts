/** coserviced's ops (spec §4): provide a worker pool as a coservice, discover a worker. */
import * as t from 'io-ts';
import { Reg, TaggedCapC, defineOp } from '@comsg/abi';

export const CoserviceFlag = { NONE: 0, SLOWPATH: 1 } as const;
export const COSERVICE_MAX_WORKERS = 128;

export const coprovide = defineOp({
  name: 'COPROVIDE',
  daemon: 'coserviced',
  summary: 'publish `count` worker targets (read through `workers`) as a coservice for op `op`',
  args: t.type({ workers: TaggedCapC, count: t.number, flags: t.number, op: t.number }),
  argSlots: { workers: Reg.c0, count: Reg.i0, flags: Reg.i1, op: Reg.i2 },
  result: t.type({ service: TaggedCapC, endpoint: TaggedCapC }),
  resultSlots: { service: Reg.c1, endpoint: Reg.c2 },
  errors: ['ENOSPC'],
});

export const coprovide2 = defineOp({
  name: 'COPROVIDE2',
  daemon: 'coserviced',
  summary: 'another coservice (op, flags) on an existing worker pool',
  args: t.type({ endpoint: TaggedCapC, flags: t.number, op: t.number }),
  argSlots: { endpoint: Reg.c0, flags: Reg.i1, op: Reg.i2 },
  result: t.type({ service: TaggedCapC }),
  resultSlots: { service: Reg.c1 },
  errors: ['ENOSPC'],
});

export const codiscover = defineOp({
  name: 'CODISCOVER',
  daemon: 'coserviced',
  summary: "a worker target of a coservice (fair round robin), with the service's op and flags",
  args: t.type({ service: TaggedCapC }),
  argSlots: { service: Reg.c0 },
  result: t.type({ target: TaggedCapC, op: t.number, flags: t.number }),
  resultSlots: { target: Reg.c1, op: Reg.i1, flags: Reg.i2 },
  errors: [],
});

export const codiscover2 = defineOp({
  name: 'CODISCOVER2',
  daemon: 'coserviced',
  summary: 'the next worker target of a coservice (for another thread)',
  args: t.type({ service: TaggedCapC }),
  argSlots: { service: Reg.c0 },
  result: t.type({ target: TaggedCapC }),
  resultSlots: { target: Reg.c1 },
  errors: [],
});
