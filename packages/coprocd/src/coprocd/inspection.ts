/**
 * What `Microkernel.inspect()`/`check()` show, per daemon, and how the host gets it from
 * daemons on other workers. Inline, the host reads the daemons' tables directly; on threads
 * their tables live in other workers' heaps, so each daemon answers requests on its own slice
 * of an inspection page (capv[DCAPV.INSPECT]): the host bumps REQ and waits for RESP; the
 * daemon, parked serving calls, writes a JSON snapshot and sets RESP to the request it
 * answered. Only the host and coprocd hold the page; a daemon holds its slice.
 */
import type { Capability, CapMachine, CoProcessApi } from '@comsg/capmachine';
import type { PoolStats } from '@comsg/abi';
import type { IpcdStats, RunningIpcd } from '@comsg/ipcd';
import { snapshotNamespaces, type RunningNsd } from '@comsg/namespaced';
import type { RunningCoeventd } from '../coeventd/start.js';
import type { RunningCoserviced } from '../coserviced/start.js';
import type { MicrokernelView } from './boot.js';
import { CORE_DAEMONS, type CoreDaemon } from './coprocd.js';

/** One daemon's share of the view, its pool counters and its invariant problems. */
export interface DaemonSnapshot {
  readonly namespaces?: MicrokernelView['namespaces'];
  readonly nsd?: MicrokernelView['nsd'];
  readonly ipcd?: IpcdStats;
  readonly pool: PoolStats;
  readonly problems: readonly string[];
  /** Set when the namespace tree did not fit the daemon's slice and was left out. */
  readonly treeOmitted?: true;
}

export type RunningDaemon = RunningNsd | RunningIpcd | RunningCoserviced | RunningCoeventd;

/** A running daemon's invariant problems (empty when its tables are consistent). */
export function problemsOf(daemon: CoreDaemon, running: RunningDaemon): string[] {
  return daemon === 'ipcd' ? (running as RunningIpcd).ipcd.check() : (running as RunningNsd | RunningCoserviced | RunningCoeventd).table.check();
}

/** A running daemon's snapshot (read in the daemon's own heap). */
export function snapshotOf(daemon: CoreDaemon, running: RunningDaemon): DaemonSnapshot {
  const pool = { ...running.pool.stats };
  const problems = problemsOf(daemon, running);
  if (daemon === 'nsd') {
    const { table } = running as RunningNsd;
    return {
      namespaces: snapshotNamespaces(table),
      nsd: {
        ...table.counts,
        limits: { namespaces: table.limits.namespaces, objects: table.limits.objects },
        quota: { ...table.quota },
        usage: Object.fromEntries([...table.usage].map(([pid, u]) => [pid, { ...u }])),
      },
      pool,
      problems,
    };
  }
  return daemon === 'ipcd' ? { ipcd: (running as RunningIpcd).ipcd.stats(), pool, problems } : { pool, problems };
}

/** The view and the check results from whichever daemons answered. */
export function combine(parts: Partial<Record<CoreDaemon, DaemonSnapshot>>): { view: MicrokernelView; check: Record<CoreDaemon, string[]> } {
  const pools: Partial<Record<CoreDaemon, PoolStats>> = {};
  for (const d of CORE_DAEMONS) if (parts[d] !== undefined) pools[d] = parts[d].pool;
  return {
    view: { namespaces: parts.nsd?.namespaces, nsd: parts.nsd?.nsd, ipcd: parts.ipcd?.ipcd, pools },
    check: Object.fromEntries(CORE_DAEMONS.map((d) => [d, [...(parts[d]?.problems ?? [])]])) as Record<CoreDaemon, string[]>,
  };
}

/** Slice layout: request and response counters, snapshot length, then the JSON bytes. */
const REQ = 0;
const RESP = 4;
const LEN = 8;
const DATA = 16;
export const INSPECT_SLICE_BYTES = 256 << 10;
/** The whole page, a slice per core daemon (a function: coprocd.ts and this module import each other). */
export const inspectPageBytes = (): number => INSPECT_SLICE_BYTES * CORE_DAEMONS.length;

/** The slice of the page that `daemon` answers on (coprocd hands it over at each (re)start). */
export function inspectSlice(m: CapMachine, page: Capability, daemon: CoreDaemon): Capability {
  return m.restrict(page, BigInt(CORE_DAEMONS.indexOf(daemon) * INSPECT_SLICE_BYTES), BigInt(INSPECT_SLICE_BYTES));
}

/** Daemon side: answer inspection requests on `slice` for as long as the daemon runs. */
export async function serveInspection(ctx: CoProcessApi, slice: Capability, snapshot: () => DaemonSnapshot): Promise<never> {
  const m = ctx.machine;
  const encoder = new TextEncoder();
  for (;;) {
    const req = m.loadI32(slice, REQ);
    if (req === m.loadI32(slice, RESP)) {
      await ctx.thread.futexWait([{ cap: slice, offset: REQ, expected: req }]);
      continue;
    }
    const snap = snapshot();
    let bytes = encoder.encode(JSON.stringify(snap));
    if (bytes.length > INSPECT_SLICE_BYTES - DATA) bytes = encoder.encode(JSON.stringify({ ...snap, namespaces: undefined, treeOmitted: true }));
    if (bytes.length > INSPECT_SLICE_BYTES - DATA) bytes = encoder.encode(JSON.stringify({ pool: snap.pool, problems: snap.problems.slice(0, 100), treeOmitted: true }));
    m.store(slice, DATA, bytes);
    m.storeI32(slice, LEN, bytes.length);
    // An atomic change (futexWake skips the notify unless a sleeper is counted after it).
    m.compareExchangeI32(slice, RESP, m.loadI32(slice, RESP), req);
    ctx.thread.futexWake(slice, RESP);
  }
}

/** The host's side of the page: what it needs from the address space. */
export interface InspectHost {
  readonly machine: CapMachine;
  waitWord(cap: Capability, offset: number, expected: number, timeoutMs: number): Promise<boolean>;
  wakeWord(cap: Capability, offset: number): number;
}

/** Host side: ask one daemon for its snapshot; undefined if it does not answer within `timeoutMs`. */
export async function requestInspection(host: InspectHost, slice: Capability, timeoutMs: number): Promise<DaemonSnapshot | undefined> {
  const m = host.machine;
  const req = m.fetchAddI32(slice, REQ, 1) + 1;
  host.wakeWord(slice, REQ);
  const deadline = performance.now() + timeoutMs;
  for (let resp = m.loadI32(slice, RESP); resp !== req; resp = m.loadI32(slice, RESP)) {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    await host.waitWord(slice, RESP, resp, left);
  }
  const bytes = m.load(slice, DATA, m.loadI32(slice, LEN));
  return JSON.parse(new TextDecoder().decode(bytes)) as DaemonSnapshot;
}
