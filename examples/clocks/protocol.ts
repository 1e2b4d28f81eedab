/**
 * The clocks(1) protocol (CheriBSD capv_clocks_t): request {len = 16, op = 8 + clock_id};
 * reply {len = 48, op = -8, error, errno_, timespec} — or op 0 with errno_ = ENOMSG when the
 * request is malformed. op 0 is the answerback.
 */
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 4;
export const CLOCKS_OP_BASE = 8;
export const CLOCKS_REPLY_OP = -8;
export const CLOCKS_REPLY_SIZE = 48;
/** Offsets inside capv_clocks_t. */
export const OFF_ERROR = 12;
export const OFF_ERRNO = 16;
export const OFF_SEC = 24;
export const OFF_NSEC = 32;

export const CLOCK_NAMES: Readonly<Record<number, string>> = {
  [CLOCK_REALTIME]: 'CLOCK_REALTIME',
  [CLOCK_MONOTONIC]: 'CLOCK_MONOTONIC',
};

/** Readable text for a clocks packet, for cotrace. */
export function describeClocksPacket(bytes: Uint8Array, direction: 'call' | 'reply'): string | undefined {
  if (bytes.length < 16) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const op = v.getInt32(8, true);
  if (op === 0) return direction === 'call' ? 'answerback?' : 'answerback';
  if (direction === 'call') return `clock_gettime(${CLOCK_NAMES[op - CLOCKS_OP_BASE] ?? op - CLOCKS_OP_BASE})`;
  if (op === CLOCKS_REPLY_OP && bytes.length >= CLOCKS_REPLY_SIZE) {
    return `error=${v.getInt32(OFF_ERROR, true)} ts=${v.getBigInt64(OFF_SEC, true)}.${String(v.getBigInt64(OFF_NSEC, true)).padStart(9, '0')}`;
  }
  return undefined;
}
