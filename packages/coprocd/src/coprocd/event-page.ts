/**
 * coprocd's events in shared memory, for hosts that cannot hand coprocd a callback (the
 * threads runtime runs it on a worker). coprocd appends fixed-size records to a ring and
 * bumps a sequence word, waking its waiters; the host waits on that word and decodes.
 */
import type { Capability, CapMachine, CoThreadApi } from '@comsg/capmachine';
import { CORE_DAEMONS, type CoreDaemon, type MicrokernelEvent } from './coprocd.js';

const SEQ = 0;
const HEADER = 16;
const RECORD = 160;
const SLOTS = 64;
export const EVENT_PAGE_BYTES = HEADER + RECORD * SLOTS;

const KINDS = ['started', 'restarted', 'exited', 'stopped', 'ready', 'boot-failed'] as const;
const R = { KIND: 0, DAEMON: 4, PID: 8, CODE: 12, TEXT_LEN: 16, TEXT: 24 } as const;
/** Room for a reason or a boot failure's why: the rest of the record (longer texts are cut at a character boundary). */
const TEXT = RECORD - R.TEXT;

/** The writer coprocd uses: one record per event, then the sequence word, then a wake. */
export function eventPageWriter(m: CapMachine, page: Capability, thread: CoThreadApi): (e: MicrokernelEvent) => void {
  const enc = new TextEncoder();
  return (e) => {
    const seq = m.loadI32(page, SEQ);
    const at = HEADER + (seq % SLOTS) * RECORD;
    const text = 'reason' in e ? e.reason : 'why' in e ? e.why : '';
    const room = new Uint8Array(TEXT);
    const bytes = room.subarray(0, enc.encodeInto(text, room).written);
    m.storeI32(page, at + R.KIND, KINDS.indexOf(e.kind));
    m.storeI32(page, at + R.DAEMON, 'daemon' in e ? CORE_DAEMONS.indexOf(e.daemon) : -1);
    m.storeI32(page, at + R.PID, 'pid' in e ? e.pid : -1);
    m.storeI32(page, at + R.CODE, 'code' in e ? e.code : 0);
    m.storeI32(page, at + R.TEXT_LEN, bytes.length);
    m.store(page, at + R.TEXT, bytes);
    m.fetchAddI32(page, SEQ, 1);
    thread.futexWake(page, SEQ);
  };
}

/** The events written since `seen` (records overwritten before they were read are skipped). */
export function readEvents(m: CapMachine, page: Capability, seen: number): { events: MicrokernelEvent[]; seq: number } {
  const seq = m.loadI32(page, SEQ);
  const dec = new TextDecoder();
  const events: MicrokernelEvent[] = [];
  for (let i = Math.max(seen, seq - SLOTS); i < seq; i++) {
    const at = HEADER + (i % SLOTS) * RECORD;
    const kind = KINDS[m.loadI32(page, at + R.KIND)];
    const daemon = CORE_DAEMONS[m.loadI32(page, at + R.DAEMON)] as CoreDaemon;
    const pid = m.loadI32(page, at + R.PID);
    const text = dec.decode(m.load(page, at + R.TEXT, Math.min(TEXT, Math.max(0, m.loadI32(page, at + R.TEXT_LEN)))));
    switch (kind) {
      case 'started':
      case 'restarted':
        events.push({ kind, daemon, pid });
        break;
      case 'exited':
        events.push({ kind, daemon, pid, reason: text, code: m.loadI32(page, at + R.CODE) });
        break;
      case 'stopped':
        events.push({ kind, daemon, why: text });
        break;
      case 'ready':
        events.push({ kind });
        break;
      case 'boot-failed':
        events.push({ kind, why: text });
        break;
    }
  }
  return { events, seq };
}

/** Where the sequence word is (hosts wait on it). */
export const EVENT_PAGE_SEQ = SEQ;
