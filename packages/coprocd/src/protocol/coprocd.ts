/** coprocd's ops: the user bootstrap (COPROC_INIT) and the daemons' private report. */
import * as t from 'io-ts';
import { OptionalCapC, Reg, TaggedCapC, codeOf, defineOp } from '@comsg/abi';

export const coprocInit = defineOp({
  name: 'COPROC_INIT',
  daemon: 'coprocd',
  summary: 'bootstrap a program: the root namespace (WR) and the COINSERT, COSELECT, CODISCOVER targets',
  args: t.type({}),
  argSlots: {},
  result: t.type({ root: TaggedCapC, coinsert: TaggedCapC, coselect: TaggedCapC, codiscover: TaggedCapC }),
  resultSlots: { root: Reg.c0, coinsert: Reg.c1, coselect: Reg.c2, codiscover: Reg.c3 },
  errors: ['EAGAIN', 'ENXIO'],
});

export const Daemon = { nsd: 1, coserviced: 2, coeventd: 3, ipcd: 4 } as const;
export type DaemonName = keyof typeof Daemon;
export const DaemonC = codeOf<DaemonName>('Daemon', Daemon);

export const bootReport = defineOp({
  name: 'BOOT_REPORT',
  daemon: 'coprocd',
  summary: "a daemon reports its worker pool (and nsd its root namespace) to coprocd (daemons' capv only)",
  args: t.type({ daemon: DaemonC, workers: TaggedCapC, count: t.number, root: OptionalCapC }),
  argSlots: { daemon: Reg.i0, workers: Reg.c0, count: Reg.i1, root: Reg.c1 },
  result: t.type({}),
  resultSlots: {},
  errors: ['EPERM'],
});
