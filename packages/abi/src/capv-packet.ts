/**
 * The capv packet convention (CheriBSD <sys/capv.h>): every capv service speaks `size_t len`
 * then `int op`, with op 0 reserved for "answerback" — a human-readable identity string. The
 * op sits at the same offset as a microkernel block's, so a daemon pool answers it too.
 */
import type { Capability, CapMachine } from '@comsg/capmachine';

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

export function writeCapvHeader(m: CapMachine, buf: Capability, header: CapvHeader): void {
  m.storeU64(buf, 0, BigInt(header.len));
  m.storeI32(buf, 8, header.op);
  m.storeI32(buf, 12, 0);
}

export function readCapvHeader(m: CapMachine, buf: Capability): CapvHeader {
  const len = m.loadU64(buf, 0);
  return { len: len > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(len), op: m.loadI32(buf, 8) };
}

/**
 * Write an answerback reply into `outbuf`: the whole struct, or as much of it as `room` bytes
 * hold (a daemon's 256-byte block); the text is cut to fit and NUL-terminated. Returns its length.
 */
export function writeAnswerback(m: CapMachine, outbuf: Capability, text: string, room = CAPV_ANSWERBACK_SIZE): number {
  const size = Math.max(CAPV_HEADER_SIZE + 1, Math.min(CAPV_ANSWERBACK_SIZE, room));
  const bytes = new TextEncoder().encode(text).subarray(0, size - CAPV_HEADER_SIZE - 1);
  writeCapvHeader(m, outbuf, { len: size, op: CAPV_ANSWERBACK_OP });
  const body = new Uint8Array(size - CAPV_HEADER_SIZE);
  body.set(bytes);
  m.store(outbuf, CAPV_HEADER_SIZE, body);
  return size;
}

/** Read the NUL-terminated answerback string of a reply in `inbuf`. */
export function readAnswerback(m: CapMachine, inbuf: Capability, received: number): string {
  const n = Math.max(0, Math.min(received, CAPV_ANSWERBACK_SIZE) - CAPV_HEADER_SIZE);
  const bytes = m.load(inbuf, CAPV_HEADER_SIZE, n);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}
