/**
 * coprocd: the microkernel's launcher and supervisor, itself a co-process.
 *
 * Boot order (spec §1.7, simplified): nsd → coserviced → (publish both) → coeventd →
 * (publish) → ipcd → (publish) → register "COPROC_INIT". Each daemon reports its worker pool with BOOT_REPORT
 * (only the daemon's own pid may report for it); coprocd then publishes every op of the
 * daemon as a COSERVICE named after the op in the root namespace (COPROVIDE for the first,
 * COPROVIDE2 for the rest, COINSERT each).
 *
 * Supervision: a thread per daemon waits for it to exit and applies the daemon's failure
 * policy — restart (with fresh keys, re-published services, at most `maxRestarts` times) or
 * stop. One daemon's failure never takes the others down (comsg killed everything).
 */
import * as E from 'fp-ts/lib/Either.js';
import { COSETUP_COCALL, sysError, type Capability, type ExitStatus, type CoProcessApi, type CoThreadApi, type Program, type ProgramModule, type SysError } from '@comsg/capmachine';
import { ARGS_SIZE, bind, opName, startPool, ukernCall, type AnyOpDecl } from '@comsg/abi';
import { ipcdOps } from '@comsg/ipcd/protocol';
import { codelete, coinsert, nsdOps } from '@comsg/namespaced/protocol';
import { bootReport, coprocInit, type DaemonName } from '../protocol/coprocd.js';
import { codiscover, codiscover2, coprovide, coprovide2 } from '../protocol/coservices.js';
import { ccbInstall, ccbRegister, colisten } from '../protocol/events.js';
import { DCAPV, type DaemonKeys } from './daemons.js';

export type FailurePolicy = 'restart' | 'stop';
export type CoreDaemon = 'nsd' | 'coserviced' | 'coeventd' | 'ipcd';
export const CORE_DAEMONS: readonly CoreDaemon[] = ['nsd', 'coserviced', 'coeventd', 'ipcd'];

/** Ops each daemon serves, in the order they are published. */
export const DAEMON_OPS: Record<CoreDaemon, readonly AnyOpDecl[]> = {
  nsd: nsdOps,
  coserviced: [codiscover, codiscover2, coprovide, coprovide2],
  coeventd: [colisten, ccbRegister, ccbInstall],
  ipcd: ipcdOps,
};

export type MicrokernelEvent =
  | { readonly kind: 'started' | 'restarted'; readonly daemon: CoreDaemon; readonly pid: number }
  | { readonly kind: 'exited'; readonly daemon: CoreDaemon; readonly pid: number; readonly reason: string; readonly code: number }
  | { readonly kind: 'stopped'; readonly daemon: CoreDaemon; readonly why: string }
  | { readonly kind: 'ready' }
  | { readonly kind: 'boot-failed'; readonly why: string };

export interface CoprocdConfig {
  /** Fresh authority for one instance of a daemon (trusted boot code supplies it). */
  readonly mintKeys: (daemon: CoreDaemon) => DaemonKeys;
  /** Closures (inline runtime) or modules (either runtime). */
  readonly programs: Record<CoreDaemon, Program | ProgramModule>;
  /** Each daemon's argv (default: its name). */
  readonly argv?: (daemon: CoreDaemon) => readonly string[];
  /** Each daemon's inspection slice (DCAPV.INSPECT), where the host cannot read its heap. */
  readonly inspectSlice?: (daemon: CoreDaemon) => Capability | undefined;
  readonly policies: Record<CoreDaemon, FailurePolicy>;
  readonly maxRestarts: number;
  readonly bootTimeoutMs: number;
  readonly onEvent: (e: MicrokernelEvent) => void;
}

export interface DaemonStatus {
  pid: number;
  state: 'starting' | 'running' | 'restarting' | 'stopped';
  restarts: number;
  report: { workers: Capability; count: number; root: Capability | undefined } | undefined;
  /** Namespace entries coprocd published for this daemon's ops. */
  entries: Capability[];
}

export const COPROC_INIT_NAME = 'COPROC_INIT';

export function coprocdProgram(config: CoprocdConfig, status: Record<CoreDaemon, DaemonStatus>): Program {
  return { name: 'coprocd', main: (ctx: CoProcessApi) => runCoprocd(ctx, config, status) };
}

/** A fresh status record per core daemon (before boot). */
export function freshStatus(): Record<CoreDaemon, DaemonStatus> {
  const fresh = (): DaemonStatus => ({ pid: -1, state: 'starting', restarts: 0, report: undefined, entries: [] });
  return { nsd: fresh(), coserviced: fresh(), coeventd: fresh(), ipcd: fresh() };
}

/** coprocd's body, whichever way it was started (a closure inline, a module on a worker). */
export async function runCoprocd(ctx: CoProcessApi, config: CoprocdConfig, status: Record<CoreDaemon, DaemonStatus>): Promise<number> {
  const m = ctx.machine;
  const fail = (why: string): number => {
    config.onEvent({ kind: 'boot-failed', why });
    ctx.print(`coprocd: boot failed: ${why}`);
    return 1;
  };
  // The bootstrap pool: daemons report here.
  const bootPool = await startPool(
    ctx,
    [
      bind(bootReport, ({ daemon, workers, count, root }, call) => {
        const d = status[daemon as CoreDaemon];
        if (d === undefined || d.pid !== call.callerPid) return E.left(sysError('EPERM', 'BOOT_REPORT', 'only a daemon may report for itself'));
        d.report = { workers, count, root };
        return E.right({});
      }),
    ],
    { workers: 1, name: 'coprocd-boot' },
  );
  if (E.isLeft(bootPool)) return fail(bootPool.left.message);
  const bootTarget = bootPool.right.targets[0]!;
  if (E.isLeft(ctx.thread.cosetup(COSETUP_COCALL))) return fail('cosetup');
  const block = E.getOrElseW(() => undefined)(ctx.malloc(ARGS_SIZE));
  if (block === undefined) return fail('out of memory');

  /** Start `name`; its exit status, whenever it exits. */
  const spawn = (name: CoreDaemon): Promise<ExitStatus> => {
    const keys = config.mintKeys(name);
    const capv: Capability[] = [];
    capv[DCAPV.BOOT] = bootTarget;
    capv[DCAPV.TYPES] = keys.types;
    capv[DCAPV.TOKENS_A] = keys.tokensA;
    capv[DCAPV.TOKENS_B] = keys.tokensB;
    const slice = config.inspectSlice?.(name);
    if (slice !== undefined) capv[DCAPV.INSPECT] = slice;
    const h = ctx.coexecvec(config.programs[name], config.argv?.(name) ?? [name], capv);
    status[name].pid = h.pid;
    status[name].report = undefined;
    return h.exited;
  };

  /**
   * Until `name` reports, exits, or has been silent for bootTimeoutMs. The timeout only catches
   * a daemon that hangs: one that dies is seen at once.
   */
  const waitReport = async (name: CoreDaemon, thread: CoThreadApi, exited: Promise<ExitStatus>): Promise<'reported' | 'timeout' | ExitStatus> => {
    const start = ctx.now();
    let died: ExitStatus | undefined;
    void exited.then((s) => (died = s));
    while (status[name].report === undefined) {
      if (died !== undefined) return died;
      if (ctx.now() - start > config.bootTimeoutMs) return 'timeout';
      await thread.sleep(1);
    }
    return 'reported';
  };

  const targetOf = (name: CoreDaemon, i: number): Capability | undefined => {
    const r = status[name].report;
    return r === undefined ? undefined : m.loadCap(r.workers, (i % r.count) * 16);
  };

  /** A thread's own identity and argument block: calls are always made as the running thread. */
  type Caller = { readonly thread: CoThreadApi; readonly block: Capability };
  const main: Caller = { thread: ctx.thread, block };

  /** Publish every op of `name` as a COSERVICE in the root namespace (replacing old entries). */
  const publish = async (name: CoreDaemon, as: Caller): Promise<E.Either<SysError, void>> => {
    const call = <D extends AnyOpDecl>(target: Capability, decl: D, args: Parameters<typeof ukernCall<D>>[5]) =>
      ukernCall(as.thread, m, as.block, target, decl, args, { timeoutMs: config.bootTimeoutMs });
    const nsd = targetOf('nsd', 0);
    const cos = targetOf('coserviced', 0);
    const root = status.nsd.report?.root;
    const rep = status[name].report;
    if (nsd === undefined || cos === undefined || root === undefined || rep === undefined) {
      return E.left(sysError('EAGAIN', 'publish', 'nsd and coserviced must be running'));
    }
    for (const old of status[name].entries.splice(0)) await call(nsd, codelete, { nsobj: old, ns: root });
    const ops = DAEMON_OPS[name];
    const first = await call(cos, coprovide, { workers: rep.workers, count: rep.count, flags: 0, op: ops[0]!.op });
    if (E.isLeft(first)) return first;
    const services = [first.right.service];
    for (const op of ops.slice(1)) {
      const s = await call(cos, coprovide2, { endpoint: first.right.endpoint, flags: op.slow ? 1 : 0, op: op.op });
      if (E.isLeft(s)) return s;
      services.push(s.right.service);
    }
    for (const [i, op] of ops.entries()) {
      const entry = await call(nsd, coinsert, { name: (opName(op.op) ?? op.name) as never, type: 'COSERVICE', obj: services[i]!, ns: root });
      if (E.isLeft(entry)) return entry;
      status[name].entries.push(entry.right.nsobj);
    }
    return E.right(undefined);
  };

  /** Undefined once `name` is running, else why it is not. */
  const startDaemon = async (name: CoreDaemon): Promise<string | undefined> => {
    status[name].state = 'starting';
    const r = await waitReport(name, ctx.thread, spawn(name));
    if (r !== 'reported') return r === 'timeout' ? `${name} did not report within ${config.bootTimeoutMs} ms` : `${name} exited before it reported (${r.reason}, ${r.code})`;
    status[name].state = 'running';
    config.onEvent({ kind: 'started', daemon: name, pid: status[name].pid });
    return undefined;
  };

  // ---- boot ----
  for (const name of ['nsd', 'coserviced'] as const) {
    const why = await startDaemon(name);
    if (why !== undefined) return fail(why);
  }
  for (const name of ['nsd', 'coserviced'] as const) {
    const p = await publish(name, main);
    if (E.isLeft(p)) return fail(`publishing ${name}: ${p.left._tag}`);
  }
  for (const name of ['coeventd', 'ipcd'] as const) {
    const why = await startDaemon(name);
    if (why !== undefined) return fail(why);
    const p = await publish(name, main);
    if (E.isLeft(p)) return fail(`publishing ${name}: ${p.left._tag}`);
  }

  // ---- the public bootstrap ----
  let turn = 0;
  const init = await startPool(
    ctx,
    [
      bind(coprocInit, () => {
        if (status.nsd.state === 'stopped' || status.coserviced.state === 'stopped') {
          return E.left(sysError('ENXIO', 'COPROC_INIT', 'the microkernel is down (nsd or coserviced stopped)'));
        }
        const root = status.nsd.report?.root;
        const [ins, sel, dis] = [targetOf('nsd', turn), targetOf('nsd', turn + 1), targetOf('coserviced', turn)];
        turn++;
        if (root === undefined || ins === undefined || sel === undefined || dis === undefined) {
          return E.left(sysError('EAGAIN', 'COPROC_INIT', 'the microkernel is (re)starting'));
        }
        return E.right({ root, coinsert: ins, coselect: sel, codiscover: dis });
      }),
    ],
    { workers: 1, name: 'coprocd-init', registerAs: COPROC_INIT_NAME },
  );
  if (E.isLeft(init)) return fail(`registering ${COPROC_INIT_NAME}: ${init.left._tag}`);
  config.onEvent({ kind: 'ready' });

  // ---- supervision ----
  for (const name of CORE_DAEMONS) {
    ctx.spawnThread(`supervise-${name}`, async (th) => {
      const own = ctx.malloc(ARGS_SIZE);
      if (E.isLeft(th.cosetup(COSETUP_COCALL)) || E.isLeft(own)) return;
      const me: Caller = { thread: th, block: own.right };
      for (;;) {
        const pid = status[name].pid;
        const exit = await ctx.waitpid(pid, { thread: th, daemon: true });
        if (E.isLeft(exit) || !th.alive) return; // coprocd itself is going away
        config.onEvent({ kind: 'exited', daemon: name, pid, reason: exit.right.reason, code: exit.right.code });
        const d = status[name];
        if (config.policies[name] !== 'restart' || d.restarts >= config.maxRestarts) {
          d.state = 'stopped';
          config.onEvent({ kind: 'stopped', daemon: name, why: config.policies[name] === 'restart' ? 'too many restarts' : 'policy is stop' });
          return;
        }
        d.restarts++;
        d.state = 'restarting';
        const r = await waitReport(name, th, spawn(name));
        if (typeof r === 'object') continue; // died again: the waitpid above sees it and counts it
        if (r === 'timeout') {
          d.state = 'stopped';
          config.onEvent({ kind: 'stopped', daemon: name, why: 'did not report after restart' });
          return;
        }
        d.state = 'running';
        // nsd or coserviced lost every published entry / coservice: publish all again.
        const again = name === 'coeventd' || name === 'ipcd' ? [name] : CORE_DAEMONS.filter((n) => status[n].state === 'running');
        if (name === 'nsd') for (const n of CORE_DAEMONS) status[n].entries = [];
        for (const n of again) {
          const r = await publish(n, me);
          if (E.isLeft(r)) ctx.print(`coprocd: republishing ${n} after restarting ${name}: ${r.left._tag}`);
        }
        config.onEvent({ kind: 'restarted', daemon: name, pid: d.pid });
      }
    });
  }
  await ctx.thread.park(new Promise(() => {}));
  return 0;
}
