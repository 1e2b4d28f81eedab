/**
 * The op registry: every microkernel call has one number, assigned here and nowhere else
 * (comsg's ukern_calls.inc order; 0 is invalid). The names double as the names services are
 * published under in the root namespace ("COINSERT", …).
 */
export const Op = {
  CODISCOVER: 1,
  CODISCOVER2: 2,
  COPROVIDE: 3,
  COPROVIDE2: 4,
  COINSERT: 5,
  COSELECT: 6,
  COUPDATE: 7,
  CODELETE: 8,
  COCREATE: 9,
  CODROP: 10,
  COOPEN: 11,
  COCLOSE: 12,
  COSEND: 13,
  CORECV: 14,
  COPOLL: 15,
  SLOPOLL: 16,
  COPORT_MSG_FREE: 17,
  COPROC_INIT: 18,
  COPROC_INIT_DONE: 19,
  CCB_INSTALL: 20,
  CCB_REGISTER: 21,
  COLISTEN: 22,
  /** coprocd's private bootstrap call: a daemon reports what it serves. */
  BOOT_REPORT: 23,
  /** ipcd: the sealed entry (CInvoke code capability) for a coport type's client-side code. */
  COPORT_ENTRY: 24,
} as const;
export type OpName = keyof typeof Op;
export const N_UKERN_CALLS = 25;

const names = new Map<number, OpName>((Object.keys(Op) as OpName[]).map((n) => [Op[n], n]));
export function opName(op: number): OpName | undefined {
  return names.get(op);
}
