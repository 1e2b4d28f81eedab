/**
 * Capability-vector conventions (CheriBSD <sys/capv.h>): well-known slots, and the packet
 * header every capv service speaks — `size_t len` then `int op`, with op 0 reserved for
 * "answerback" (a human-readable identity string).
 */
import * as E from 'fp-ts/lib/Either.js';
import { sysError, type Capability, type CapMachine, type CoThread, type SysError } from '@comsg/capmachine';
import { cocall } from '@comsg/abi';

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

/** sizeof(capv_t): len + op, padded to a capability. */
export const CAPV_HEADER_SIZE = 16;
export const CAPV_ANSWERBACK_OP = 0;
export const CAPV_ANSWERBACK_MAX = 1024;
/** sizeof(capv_answerback_t). */
export const CAPV_ANSWERBACK_SIZE = CAPV_HEADER_SIZE + CAPV_ANSWERBACK_MAX;

export interface CapvHeader {
  readonly len: number;
  readonly op: number;
}

export function writeHeader(m: CapMachine, buf: Capability, header: CapvHeader): void {
  m.storeU64(buf, 0, BigInt(header.len));
  m.storeI32(buf, 8, header.op);
  m.storeI32(buf, 12, 0);
}

export function readHeader(m: CapMachine, buf: Capability): CapvHeader {
  const len = m.loadU64(buf, 0);
  return { len: len > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(len), op: m.loadI32(buf, 8) };
}

/** Write an answerback reply into `outbuf`; returns its length (always the full struct). */
export function writeAnswerback(m: CapMachine, outbuf: Capability, text: string): number {
  const bytes = new TextEncoder().encode(text).subarray(0, CAPV_ANSWERBACK_MAX - 1);
  writeHeader(m, outbuf, { len: CAPV_ANSWERBACK_SIZE, op: CAPV_ANSWERBACK_OP });
  const body = new Uint8Array(CAPV_ANSWERBACK_MAX);
  body.set(bytes);
  m.store(outbuf, CAPV_HEADER_SIZE, body);
  return CAPV_ANSWERBACK_SIZE;
}

/** Read the NUL-terminated answerback string of a reply in `inbuf`. */
export function readAnswerback(m: CapMachine, inbuf: Capability, received: number): string {
  const n = Math.max(0, Math.min(received, CAPV_ANSWERBACK_SIZE) - CAPV_HEADER_SIZE);
  const bytes = m.load(inbuf, CAPV_HEADER_SIZE, n);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * Ask a service who it is (op 0). `scratch` must hold CAPV_ANSWERBACK_SIZE bytes; it is used
 * for both the request and the reply.
 */
export async function answerback(
  thread: CoThread,
  m: CapMachine,
  target: Capability,
  scratch: Capability,
  timeoutMs = 1000,
): Promise<E.Either<SysError, string>> {
  writeHeader(m, scratch, { len: CAPV_HEADER_SIZE, op: CAPV_ANSWERBACK_OP });
  const n = await cocall(thread, target, scratch, CAPV_HEADER_SIZE, scratch, CAPV_ANSWERBACK_SIZE, { timeoutMs });
  if (E.isLeft(n)) return n;
  if (n.right < CAPV_HEADER_SIZE) return E.left(sysError('ENOMSG', 'answerback', `short reply (${n.right} bytes)`));
  const h = readHeader(m, scratch);
  if (h.op !== CAPV_ANSWERBACK_OP) return E.left(sysError('ENOMSG', 'answerback', `reply op ${h.op}`));
  return E.right(readAnswerback(m, scratch, n.right));
}
