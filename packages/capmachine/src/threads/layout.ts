/**
 * Shared-memory layout of the threads runtime's switcher control block (SCB).
 *
 * One SCB per co-process thread, 512 bytes of kernel memory in four 128-byte lines grouped by
 * who writes them, so a thread spinning on a word is disturbed only by the one store that
 * matters to it (node-ipc-anchors §6.1: control words 128 B apart):
 *   - line 0, read-mostly: state, owner, published accept buffers, this thread's slow-call area;
 *   - line 1, the response: written by the callee (RESP, RESULT), caller's sleep flag;
 *   - line 2, the request: written by the claiming caller (REQ, length, who), callee's sleep flag;
 *   - line 3: the claim word (callers only) and the owner's own counters.
 * Offsets are bytes from the SCB base.
 *
 * The mailbox of a target is its SCB: a caller claims it with a CAS on CLAIM, writes the
 * request into the callee's published inbuf, bumps REQ; the callee answers by storing RESULT
 * and bumping RESP. Only the claimer copies the reply out, so a caller that gave up (timeout)
 * can never be written to afterwards.
 */
export const SCB_BYTES = 512;
export const SCB_MAGIC = 0x5cb_7e4d;

/** Target states (STATE word). */
export const ScbState = {
  NEVER: 0,
  FAST: 1,
  SLOW: 2,
  NOT_ACCEPTING: 3,
  GONE: 4,
} as const;

// Line 0: read-mostly.
export const O_STATE = 0;
export const O_OWNER_TID = 4;
export const O_OWNER_PID = 8;
export const O_MAGIC = 12;
export const O_INLEN = 16;
export const O_OUTLEN = 20;
/** Accept-session counter: bumped at each coaccept so callers reload cached buffers. */
export const O_SESSION = 24;
/** The callee's published inbuf and outbuf capabilities. */
export const O_INBUF = 32;
export const O_OUTBUF = 48;
/** This thread's own outgoing cocall_slow buffers (read by the kernel thread). */
export const O_SLOW_OUTBUF = 64;
export const O_SLOW_INBUF = 80;
export const O_SLOW_OUTLEN = 96;
export const O_SLOW_INLEN = 100;

// Line 1: the response (callee writes).
export const O_RESP = 128;
export const O_RESULT = 132;
export const O_CALLER_SLEEPING = 136;

// Line 2: the request (claiming caller writes).
export const O_REQ = 256;
export const O_REQ_LEN = 260;
export const O_CALLER_SCB = 264;
export const O_CALLEE_SLEEPING = 268;
/** The seq of a call its caller gave up on: the callee frees the claim after answering it. */
export const O_ABANDONED_SEQ = 272;

// Line 3: the claim (callers) and the owner's counters.
export const O_CLAIM = 384;
export const O_CLAIM_WAITERS = 388;
export const O_SERVED = 448;
export const O_MADE = 452;
/**
 * Robust-word registrations (robust-word.ts): ROBUST_SLOTS slots of three words — the word's
 * address + 1 (0: empty slot), the wake word's address, the rollback value. Written by the
 * owning thread only; the kernel reads them once the thread's worker has stopped.
 */
export const O_ROBUST = 464;
export const ROBUST_SLOT_BYTES = 12;

/** CLAIM value of a call whose caller gave up; the callee (or the kernel) frees it. */
export const CLAIM_ABANDONED = -1;

/** Per-process capability vector block: current capv, then a staging half for coexecvec. */
export const CAPV_SLOTS = 32;
export const CAPV_BLOCK_BYTES = CAPV_SLOTS * 16 * 2;
export const CAPV_STAGE = CAPV_SLOTS * 16;

/** Words of the runtime-wide control SAB (not capmachine memory: host bookkeeping). */
export const R_SPINNERS = 0;
export const R_MAX_SPINNERS = 1;
export const R_SPIN_POLLS = 2;
/** Address of the cocall trace log (trace-log.ts) while the host traces; 0 = not tracing. */
export const R_TRACE = 3;
/**
 * Futex sleeper counts: a thread about to sleep on word w adds one to bucket (w mod
 * FUTEX_BUCKETS), so futexWake skips Atomics.notify (a process-wide mutex) when nobody sleeps.
 */
export const R_FUTEX_SLEEPERS = 8;
export const FUTEX_BUCKETS = 256;
export const R_WORDS = R_FUTEX_SLEEPERS + FUTEX_BUCKETS;

/** Words of a worker's private doorbell SAB (shared by the threads it hosts). */
export const D_RPC = 0;
export const D_SLOW = 1;
/** Spinner tickets held by the worker's threads (the kernel returns them if the worker dies). */
export const D_TICKET = 2;
export const D_WORDS = 4;
