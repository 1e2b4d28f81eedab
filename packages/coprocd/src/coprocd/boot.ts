/**
 * Booting the microkernel in an address space (host side: the only code that may mint
 * authority for the daemons). Starts coprocd, which starts and supervises the rest.
 */
import { EventEmitter } from 'eventemitter3';
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, Perm, sysError, type AddressSpaceApi, type CoProcessHandle, type SysError } from '@comsg/capmachine';
import type { IpcdOptions, IpcdStats, RunningIpcd } from '@comsg/ipcd';
import type { NsdOptions, NsView, RunningNsd } from '@comsg/namespaced';
import { TOKEN_SPACE_BYTES, type PoolStats } from '@comsg/abi';
import type { RunningCoeventd } from '../coeventd/start.js';
import type { RunningCoserviced } from '../coserviced/start.js';
import { CORE_DAEMONS, coprocdProgram, freshStatus, type CoprocdConfig, type CoreDaemon, type DaemonStatus, type FailurePolicy, type MicrokernelEvent } from './coprocd.js';
import { EVENT_PAGE_BYTES, EVENT_PAGE_SEQ, readEvents } from './event-page.js';
import { fillKeyRing, keyRingBytes } from './key-ring.js';
import { microkernelModule, type ModuleBootConfig } from './modules.js';
import { daemonPrograms, type DaemonKeys } from './daemons.js';
import { combine, inspectPageBytes, inspectSlice, problemsOf, requestInspection, snapshotOf } from './inspection.js';

export interface MicrokernelOptions {
  /** Per-daemon failure policy. Default: restart coserviced, coeventd and ipcd, stop on nsd failure. */
  readonly policies?: Partial<Record<CoreDaemon, FailurePolicy>>;
  readonly maxRestarts?: number;
  /**
   * How long a daemon may stay silent before it reports (default 30 s). Catches a hung daemon
   * only (one that exits is seen at once); on the threads runtime it includes loading the
   * daemon's code on a fresh worker, which takes seconds on a busy machine.
   */
  readonly bootTimeoutMs?: number;
  readonly nsd?: NsdOptions;
  readonly ipcd?: IpcdOptions;
}

export interface MicrokernelEvents {
  event: (e: MicrokernelEvent) => void;
}

export interface Microkernel {
  /** coprocd's pid. */
  readonly pid: number;
  /** Resolves once COPROC_INIT is registered (or boot failed). */
  readonly ready: Promise<E.Either<SysError, void>>;
  readonly events: EventEmitter<MicrokernelEvents>;
  /** Every event so far, in order. */
  readonly log: readonly MicrokernelEvent[];
  status(): Record<CoreDaemon, { pid: number; state: DaemonStatus['state']; restarts: number }>;
  /**
   * The host's (debugger's) view of daemon state, for tools: the namespace tree and nsd's
   * table use, and ipcd's open ports. Undefined parts belong to daemons not (yet) running.
   */
  inspect(): MicrokernelView;
  /**
   * Every running daemon's invariant checker (host side, for tests and fuzzing): problems per
   * daemon, empty when its tables are consistent.
   */
  check(): Record<CoreDaemon, string[]>;
  /**
   * `inspect()` on either runtime. On threads the daemons' tables are in other workers' heaps:
   * each daemon answers on its slice of an inspection page; one that does not answer within
   * `timeoutMs` (default 2000) is left out. Inline it resolves to `inspect()` at once.
   */
  inspectAsync(timeoutMs?: number): Promise<MicrokernelView>;
  /** `check()` on either runtime (as inspectAsync); a daemon that did not answer reports so. */
  checkAsync(timeoutMs?: number): Promise<Record<CoreDaemon, string[]>>;
}

export interface MicrokernelView {
  readonly namespaces: NsView | undefined;
  readonly nsd:
    | {
        readonly namespaces: number;
        readonly objects: number;
        readonly limits: { readonly namespaces: number; readonly objects: number };
        /** Per-co-process quota and each co-process's live namespaces and objects. */
        readonly quota: { readonly namespaces: number; readonly objects: number };
        readonly usage: Readonly<Record<number, { readonly namespaces: number; readonly objects: number }>>;
      }
    | undefined;
  readonly ipcd: IpcdStats | undefined;
  /** Calls, errors and defects (a handler threw: a bug, answered EDEFECT) per daemon pool. */
  readonly pools: Partial<Record<CoreDaemon, PoolStats>>;
}

const DEFAULT_POLICIES: Record<CoreDaemon, FailurePolicy> = { nsd: 'stop', coserviced: 'restart', coeventd: 'restart', ipcd: 'restart' };

export function bootMicrokernel(space: AddressSpaceApi, options: MicrokernelOptions = {}): Microkernel {
  const events = new EventEmitter<MicrokernelEvents>();
  const log: MicrokernelEvent[] = [];
  let settle!: (r: E.Either<SysError, void>) => void;
  const ready = new Promise<E.Either<SysError, void>>((r) => (settle = r));
  const status = freshStatus();
  const onEvent = (e: MicrokernelEvent): void => {
    log.push(e);
    events.emit('event', e);
    if (e.kind === 'ready') settle(E.right(undefined));
    if (e.kind === 'boot-failed') settle(E.left(sysError('ENXIO', 'boot', e.why)));
  };
  const mintKeys = (daemon: CoreDaemon): DaemonKeys => ({
    types: space.mintTypes(daemon === 'nsd' ? 16 : daemon === 'ipcd' ? 3 : 2),
    tokensA: space.mintTokenSpace(TOKEN_SPACE_BYTES),
    tokensB: space.mintTokenSpace(TOKEN_SPACE_BYTES),
  });
  const settings = { policies: { ...DEFAULT_POLICIES, ...options.policies }, maxRestarts: options.maxRestarts ?? 3, bootTimeoutMs: options.bootTimeoutMs ?? 30_000 };
  const parts: BootParts = { options, settings, mintKeys, onEvent, status };
  const booted = space instanceof AddressSpace ? bootInline(space, parts) : bootByModule(space, parts);
  void booted.handle.exited.then((s) => settle(E.left(sysError('ENXIO', 'boot', `coprocd exited (${s.reason}, ${s.code})`))));
  return {
    pid: booted.handle.pid,
    ready,
    events,
    log,
    status: () =>
      Object.fromEntries(CORE_DAEMONS.map((n) => [n, { pid: status[n].pid, state: status[n].state, restarts: status[n].restarts }])) as ReturnType<
        Microkernel['status']
      >,
    inspect: booted.inspect,
    check: booted.check,
    inspectAsync: async (timeoutMs = 2000) => (await booted.snapshots(timeoutMs)).view,
    checkAsync: async (timeoutMs = 2000) => (await booted.snapshots(timeoutMs)).check,
  };
}

/** What either way of booting needs from bootMicrokernel. */
interface BootParts {
  readonly options: MicrokernelOptions;
  readonly settings: Pick<CoprocdConfig, 'policies' | 'maxRestarts' | 'bootTimeoutMs'>;
  readonly mintKeys: (d: CoreDaemon) => DaemonKeys;
  readonly onEvent: (e: MicrokernelEvent) => void;
  readonly status: Record<CoreDaemon, DaemonStatus>;
}

interface Booted {
  readonly handle: CoProcessHandle;
  readonly inspect: () => MicrokernelView;
  readonly check: () => Record<CoreDaemon, string[]>;
  readonly snapshots: (timeoutMs: number) => Promise<ReturnType<typeof combine>>;
}

/**
 * Inline: coprocd and the daemons are closures on this thread, so the host hands coprocd
 * callbacks (minting, events) and observes the daemons' tables directly (inspect, check).
 */
function bootInline(space: AddressSpace, { options, settings, mintKeys, onEvent, status }: BootParts): Booted {
  // The microkernel's own publishing is not charged to any quota.
  let coprocdPid = -1;
  const exempt = (pid: number): boolean => pid === coprocdPid;
  // The latest started instance of each daemon (a restart replaces it), for inspect/check.
  const running: { nsd?: RunningNsd; ipcd?: RunningIpcd; coserviced?: RunningCoserviced; coeventd?: RunningCoeventd } = {};
  const program = coprocdProgram(
    {
      mintKeys,
      programs: daemonPrograms({
        nsd: { ...options.nsd, exempt },
        ipcd: { ...options.ipcd, exempt },
        observe: { nsd: (r) => (running.nsd = r), ipcd: (r) => (running.ipcd = r), coserviced: (r) => (running.coserviced = r), coeventd: (r) => (running.coeventd = r) },
      }),
      ...settings,
      onEvent,
    },
    status,
  );
  const handle = space.spawn(program, { name: 'coprocd' });
  coprocdPid = handle.pid;
  const now = (): ReturnType<typeof combine> =>
    combine(Object.fromEntries(CORE_DAEMONS.flatMap((d) => (running[d] === undefined ? [] : [[d, snapshotOf(d, running[d])]]))));
  return {
    handle,
    inspect: () => now().view,
    // Tests and the fuzzer call check() often: only the checkers, not the whole view.
    check: () => Object.fromEntries(CORE_DAEMONS.map((d) => [d, running[d] === undefined ? [] : problemsOf(d, running[d])])) as Record<CoreDaemon, string[]>,
    snapshots: () => Promise.resolve(now()),
  };
}

/**
 * By module (the threads runtime: coprocd and each daemon on their own worker). Authority and
 * events travel through memory instead of callbacks: the host mints every key set coprocd
 * may need up front (key ring, capv[0]) and follows coprocd's events on a shared page
 * (capv[1]). Daemon tables live in other workers' heaps, so they cannot be inspected from here.
 */
function bootByModule(space: AddressSpaceApi, { options, settings, mintKeys, onEvent, status }: BootParts): Booted {
  const m = space.machine;
  const instances = settings.maxRestarts + 1;
  const ring = space.allocateShared(keyRingBytes(instances));
  fillKeyRing(m, ring, instances, mintKeys);
  const page = space.allocateShared(EVENT_PAGE_BYTES);
  const inspectPage = space.allocateShared(inspectPageBytes());
  const config: ModuleBootConfig = { ...settings, ...(options.nsd === undefined ? {} : { nsd: options.nsd }), ...(options.ipcd === undefined ? {} : { ipcd: options.ipcd }) };
  const handle = space.spawn(
    { module: microkernelModule(), export: 'coprocd', name: 'coprocd' },
    { name: 'coprocd', argv: ['coprocd', JSON.stringify(config)], capv: [m.andPerm(ring, Perm.GLOBAL | Perm.LOAD | Perm.LOAD_CAP), page, inspectPage] },
  );
  let alive = true;
  void handle.exited.then(() => (alive = false));
  void (async () => {
    let seen = 0;
    while (alive) {
      await space.waitWord(page, EVENT_PAGE_SEQ, seen, 250);
      const got = readEvents(m, page, seen);
      seen = got.seq;
      for (const e of got.events) {
        track(status, e);
        onEvent(e);
      }
    }
  })();
  const unobservable = 'runs on its own worker: use inspectAsync/checkAsync';
  const snapshots = async (timeoutMs: number): Promise<ReturnType<typeof combine>> => {
    const asked = await Promise.all(
      CORE_DAEMONS.map(async (d) => [d, status[d].state === 'running' ? await requestInspection(space, inspectSlice(m, inspectPage, d), timeoutMs) : undefined] as const),
    );
    const r = combine(Object.fromEntries(asked.filter(([, s]) => s !== undefined)));
    for (const [d, s] of asked) if (s === undefined) r.check[d].push(`${d} did not answer (${status[d].state})`);
    return r;
  };
  return {
    handle,
    inspect: () => ({ namespaces: undefined, nsd: undefined, ipcd: undefined, pools: {} }),
    check: () => Object.fromEntries(CORE_DAEMONS.map((d) => [d, [`${d} ${unobservable}`]])) as Record<CoreDaemon, string[]>,
    snapshots,
  };
}

/** The host's copy of daemon status, kept from coprocd's events. */
function track(status: Record<CoreDaemon, DaemonStatus>, e: MicrokernelEvent): void {
  switch (e.kind) {
    case 'started':
      status[e.daemon].pid = e.pid;
      status[e.daemon].state = 'running';
      return;
    case 'restarted':
      status[e.daemon].pid = e.pid;
      status[e.daemon].state = 'running';
      status[e.daemon].restarts++;
      return;
    case 'exited':
      status[e.daemon].state = 'restarting';
      return;
    case 'stopped':
      status[e.daemon].state = 'stopped';
      return;
    default:
      return;
  }
}
