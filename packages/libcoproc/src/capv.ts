/**
 * Capability-vector conventions (CheriBSD <sys/capv.h>): well-known slots, the packet header
 * every capv service speaks — `size_t len` then `int op`, with op 0 reserved for "answerback"
 * (a human-readable identity string; encoded in @comsg/abi, which daemon pools answer with
 * too) — and the answerback client.
 */
import * as E from 'fp-ts/lib/Either.js';
import { sysError, type Capability, type CapMachine, type CoThreadApi, type SysError } from '@comsg/capmachine';
import { CAPV_ANSWERBACK_OP, CAPV_ANSWERBACK_SIZE, CAPV_HEADER_SIZE, cocall, readAnswerback, readCapvHeader, writeCapvHeader } from '@comsg/abi';

export const CAPV_CODISCOVER = 2;
export const CAPV_COINSERT = 4;
export const CAPV_COSELECT = 6;
export const CAPV_CLOCKS = 8;
export const CAPV_BINDS = 10;
export const CAPV_SYSCALL = 12;

/** Names of the well-known slots, for tools. */
export const CAPV_SLOT_NAMES: Readonly<Record<number, string>> = {
  [CAPV_CODISCOVER]: 'CAPV_CODISCOVER',
  [CAPV_COINSERT]: 'CAPV_COINSERT',
  [CAPV_COSELECT]: 'CAPV_COSELECT',
  [CAPV_CLOCKS]: 'CAPV_CLOCKS',
  [CAPV_BINDS]: 'CAPV_BINDS',
  [CAPV_SYSCALL]: 'CAPV_SYSCALL',
};

export {
  CAPV_ANSWERBACK_MAX,
  CAPV_ANSWERBACK_OP,
  CAPV_ANSWERBACK_SIZE,
  CAPV_HEADER_SIZE,
  readAnswerback,
  readCapvHeader as readHeader,
  writeAnswerback,
  writeCapvHeader as writeHeader,
  type CapvHeader,
} from '@comsg/abi';

/**
 * Ask a service who it is (op 0). `scratch` must hold CAPV_ANSWERBACK_SIZE bytes; it is used
 * for both the request and the reply.
 */
export async function answerback(
  thread: CoThreadApi,
  m: CapMachine,
  target: Capability,
  scratch: Capability,
  timeoutMs = 1000,
): Promise<E.Either<SysError, string>> {
  writeCapvHeader(m, scratch, { len: CAPV_HEADER_SIZE, op: CAPV_ANSWERBACK_OP });
  const n = await cocall(thread, target, scratch, CAPV_HEADER_SIZE, scratch, CAPV_ANSWERBACK_SIZE, { timeoutMs });
  if (E.isLeft(n)) return n;
  if (n.right < CAPV_HEADER_SIZE) return E.left(sysError('ENOMSG', 'answerback', `short reply (${n.right} bytes)`));
  const h = readCapvHeader(m, scratch);
  if (h.op !== CAPV_ANSWERBACK_OP) return E.left(sysError('ENOMSG', 'answerback', `reply op ${h.op}`));
  return E.right(readAnswerback(m, scratch, n.right));
}
