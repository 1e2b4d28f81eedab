/** coeventd's ops (spec §5): death events and callbacks. */
import * as t from 'io-ts';
import { OptionalCapC, Reg, TaggedCapC, defineOp } from '@comsg/abi';

export const CoeventType = { PROCESS_DEATH: 0 } as const;
export const CallbackFlag = { NONE: 0, SLOCALL: 2 } as const;
/** Callback argument buffers are copied into coeventd at install time, at most this long. */
export const CALLBACK_ARGS_MAX = 240;

export const colisten = defineOp({
  name: 'COLISTEN',
  daemon: 'coeventd',
  summary: "a handle to the caller's own death event (to hand to others)",
  args: t.type({ event: t.number, pid: t.number }),
  argSlots: { event: Reg.i0, pid: Reg.i1 },
  result: t.type({ coevent: TaggedCapC }),
  resultSlots: { coevent: Reg.c1 },
  errors: ['EINTEGRITY', 'EOPNOTSUPP', 'ENOSPC'],
});

export const ccbRegister = defineOp({
  name: 'CCB_REGISTER',
  daemon: 'coeventd',
  summary: 'register a callback function: a target coeventd will cocall',
  args: t.type({ target: TaggedCapC, flags: t.number }),
  argSlots: { target: Reg.c0, flags: Reg.i0 },
  result: t.type({ func: TaggedCapC }),
  resultSlots: { func: Reg.c1 },
  errors: ['EOPNOTSUPP', 'ENOSPC'],
});

export const ccbInstall = defineOp({
  name: 'CCB_INSTALL',
  daemon: 'coeventd',
  summary: 'attach a callback (function + argument bytes, copied now) to an event, in order',
  args: t.type({ func: TaggedCapC, coevent: TaggedCapC, args: OptionalCapC, len: t.number }),
  argSlots: { func: Reg.c0, coevent: Reg.c1, args: Reg.c2, len: Reg.i0 },
  result: t.type({ position: t.number }),
  resultSlots: { position: Reg.i1 },
  errors: ['EMSGSIZE', 'EFAULT', 'ESRCH', 'ENOSPC'],
});
