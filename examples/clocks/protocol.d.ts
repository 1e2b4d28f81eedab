/**
 * The clocks(1) protocol (CheriBSD capv_clocks_t): request {len = 16, op = 8 + clock_id};
 * reply {len = 48, op = -8, error, errno_, timespec} — or op 0 with errno_ = ENOMSG when the
 * request is malformed. op 0 is the answerback.
 */
export declare const CLOCK_REALTIME = 0;
export declare const CLOCK_MONOTONIC = 4;
export declare const CLOCKS_OP_BASE = 8;
export declare const CLOCKS_REPLY_OP = -8;
export declare const CLOCKS_REPLY_SIZE = 48;
/** Offsets inside capv_clocks_t. */
export declare const OFF_ERROR = 12;
export declare const OFF_ERRNO = 16;
export declare const OFF_SEC = 24;
export declare const OFF_NSEC = 32;
export declare const CLOCK_NAMES: Readonly<Record<number, string>>;
/** Readable text for a clocks packet, for cotrace. */
export declare function describeClocksPacket(bytes: Uint8Array, direction: 'call' | 'reply'): string | undefined;
