/**
 * copoll on every coport type (comsg: COCARRIER only). Runs as ipcd code on the caller's
 * thread: compute `revents = requested ∩ current` for each entry; if none is ready, wait on
 * every port's SEQ word at once — per-port waiters, no global lock, and a close wakes every
 * poller (fixes §3.8's bugs). A handle to a port that no longer exists reports CLOSED.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Capability, sysError, type CapMachine, type CoThreadApi, type SysError } from '@comsg/capmachine';
import type { PollRequestEntry } from '../protocol/entry.js';
import { ALL_EVENTS, PollEvent, type CoportTypeName } from '../protocol/types.js';
import { deadline, remaining } from './checks.js';
import { channelEvents } from './cochannel.js';
import { pipeReady } from './copipe.js';
import { Rec, unwatchSeq, waitingSenders, watchSeq } from './port-record.js';
import type { PortTable, ResolvedPort } from './port-table.js';

export const MAX_POLL_ENTRIES = 1024;

/** Current event bits of a port, from its shared record. */
export function currentEvents(m: CapMachine, type: CoportTypeName, port: ResolvedPort): number {
  if (type === 'COCHANNEL') return channelEvents(port.words);
  const rec = port.rec;
  const closed = m.loadI32(rec, Rec.CLOSED) !== 0 ? PollEvent.CLOSED : 0;
  if (type !== 'COPIPE') return m.loadI32(rec, Rec.EVENTS) | closed;
  const ready = pipeReady(m, rec) && closed === 0 ? PollEvent.OUT : 0;
  const senders = waitingSenders(port.words) > 0 ? PollEvent.IN : 0;
  return ready | senders | closed;
}

/** Resolve a sealed handle of any coport type (ipcd's code holds every type's key). */
export function resolveAny(tables: readonly PortTable[], handle: unknown): { table: PortTable; port: ResolvedPort | 'stale' } | undefined {
  if (!Capability.is(handle)) return undefined;
  for (const table of tables) {
    if (!table.mint.owns(handle)) continue;
    const r = table.resolve(table.mint.open(handle));
    return r === 'invalid' ? undefined : { table, port: r };
  }
  return undefined;
}

export async function copoll(
  m: CapMachine,
  tables: readonly PortTable[],
  thread: CoThreadApi,
  entries: readonly PollRequestEntry[],
  timeoutMs: number,
): Promise<E.Either<SysError, number[]>> {
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_POLL_ENTRIES) {
    return E.left(sysError('EINVAL', 'copoll', `between 1 and ${MAX_POLL_ENTRIES} entries`));
  }
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) return E.left(sysError('EINVAL', 'copoll', 'timeout must be a number'));
  const resolved: Array<{ table: PortTable; port: ResolvedPort | 'stale'; events: number }> = [];
  for (const [i, e] of entries.entries()) {
    const events = e?.events;
    if (typeof events !== 'number' || !Number.isInteger(events) || (events & ~ALL_EVENTS) !== 0) {
      return E.left(sysError('EINVAL', 'copoll', `entry ${i}: bad event mask`));
    }
    const r = resolveAny(tables, e.port);
    if (r === undefined) return E.left(sysError('EINVAL', 'copoll', `entry ${i}: not a coport handle`));
    resolved.push({ ...r, events });
  }
  const due = deadline(thread.now(), timeoutMs);
  // Records this poll counts itself a waiter on (see port-record's publish), once it must wait.
  let watched: Capability[] | undefined;
  try {
    for (;;) {
      const words: Array<{ cap: Capability; offset: number; expected: number }> = [];
      let ready = 0;
      const revents = resolved.map(({ table, port, events }) => {
        if (port === 'stale' || m.loadI32(port.rec, Rec.GEN) !== port.gen) return events & PollEvent.CLOSED;
        words.push({ cap: port.rec, offset: Rec.SEQ, expected: m.loadI32(port.rec, Rec.SEQ) });
        return currentEvents(m, table.type, port) & events;
      });
      for (const r of revents) if (r !== 0) ready++;
      const left = remaining(thread.now(), due);
      if (ready > 0 || left === 0 || words.length === 0) return E.right(revents);
      if (watched === undefined) {
        // Counted from here on, any change wakes us: look once more, then sleep.
        watched = words.map((w) => w.cap);
        for (const rec of watched) watchSeq(m, rec);
        continue;
      }
      const why = await thread.futexWait(words, left);
      if (why === 'closed' || why === 'deadlock') return E.left(sysError(why === 'closed' ? 'EINTR' : 'EDEADLK', 'copoll', `wait ended: ${why}`));
    }
  } finally {
    for (const rec of watched ?? []) unwatchSeq(m, rec);
  }
}
