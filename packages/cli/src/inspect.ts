/**
 * Looking inside an example's address spaces at the moment its programs are done (daemons
 * still serving): the process table, every capability vector (asking each target who it is),
 * and the namespace tree. This is the host's debugger view; programs cannot reach it.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  CAPV_ANSWERBACK_SIZE,
  CAPV_SLOT_NAMES,
  COPROCD_CAPV_NAMES,
  COSETUP_COCALL,
  DAEMON_CAPV_NAMES,
  answerback,
  AddressSpace,
  ThreadedAddressSpace,
  type AddressSpaceApi,
  type Capability,
  type RuntimeKind,
  type Microkernel,
  type MicrokernelView,
} from '@comsg/libcoproc';
import type { Example, ExampleHooks } from './examples.js';

export interface ThreadRow {
  readonly tid: number;
  readonly name: string;
  readonly state: string;
  /** The switcher's view: registered name, calls made and served. */
  readonly registered: string | undefined;
  readonly made: number;
  readonly served: number;
}

export interface ProcessRow {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  readonly state: 'running' | 'exited';
  readonly exit: { readonly reason: string; readonly code: number } | undefined;
  readonly capc: number;
  readonly grants: number;
  readonly threads: readonly ThreadRow[];
}

export interface CapvRow {
  readonly pid: number;
  readonly process: string;
  readonly slot: number;
  /** The well-known slot name (CAPV_CLOCKS, …) or "ad hoc". */
  readonly slotName: string;
  readonly capability: string;
  readonly kind: 'target' | 'sealed' | 'memory' | 'untagged';
  /** For a switcher target: the thread it names. */
  readonly target: { readonly pid: number; readonly tid: number; readonly name: string | undefined } | undefined;
  /** What the target answered to op 0, or why it did not. */
  readonly answerback: string | undefined;
  readonly error: string | undefined;
}

export interface SpaceSnapshot {
  readonly processes: readonly ProcessRow[];
  readonly capv: readonly CapvRow[];
  readonly microkernel: MicrokernelView | undefined;
  readonly daemons: Readonly<Record<string, number>> | undefined;
}

export interface Inspection {
  readonly example: string;
  readonly code: number;
  /** What the example printed (kept, not shown, unless it failed). */
  readonly output: readonly string[];
  readonly spaces: readonly SpaceSnapshot[];
}

/** Per-thread switcher counters (and registered names, inline) of either runtime. */
function switcherCounts(space: AddressSpaceApi): Map<number, { name?: string | undefined; made: number; served: number }> {
  if (space instanceof AddressSpace) return new Map(space.switcher.stats().map((s) => [s.tid, s]));
  if (space instanceof ThreadedAddressSpace) return new Map(space.switcherStats().map((s) => [s.tid, s]));
  return new Map();
}

function processRows(space: AddressSpaceApi): ProcessRow[] {
  const stats = switcherCounts(space);
  return space
    .processes()
    .map((p) => ({
      pid: p.pid,
      ppid: p.parent,
      name: p.name,
      state: p.state,
      exit: p.exit === undefined ? undefined : { reason: p.exit.reason, code: p.exit.code },
      capc: p.capc,
      grants: p.granted,
      threads: p.threads.map((t) => {
        const s = stats.get(t.tid);
        return { tid: t.tid, name: t.name, state: t.state, registered: s?.name, made: s?.made ?? 0, served: s?.served ?? 0 };
      }),
    }));
}

/**
 * Every non-empty capv slot of every process; targets are asked for their answerback by an
 * inspector co-process (bounded wait per target), as capv(1) does from inside.
 */
async function capvRows(space: AddressSpace, rows: readonly ProcessRow[], daemons: ReadonlySet<number>, timeoutMs: number): Promise<CapvRow[]> {
  const m = space.machine;
  const targetOtype = space.switcher.otypes.target;
  const slots: Array<{ pid: number; process: string; slot: number; cap: Capability }> = [];
  for (const p of rows) {
    for (const [slot, cap] of (space.capvOf(p.pid) ?? []).entries()) if (cap !== undefined) slots.push({ pid: p.pid, process: p.name, slot, cap });
  }
  const answers = new Map<number, E.Either<string, string>>();
  const toAsk = slots.map((s, i) => ({ i, cap: s.cap })).filter((s) => s.cap.tag && Number(s.cap.otype) === targetOtype);
  if (toAsk.length > 0) {
    space.spawn({
      name: 'capv-inspector',
      main: async (ctx) => {
        if (E.isLeft(ctx.thread.cosetup(COSETUP_COCALL))) return 1;
        const scratch = ctx.malloc(CAPV_ANSWERBACK_SIZE);
        if (E.isLeft(scratch)) return 1;
        for (const { i, cap } of toAsk) {
          const who = await answerback(ctx.thread, m, cap, scratch.right, timeoutMs);
          answers.set(i, E.isRight(who) ? E.right(who.right) : E.left(who.left._tag));
        }
        return 0;
      },
    });
    await space.run();
  }
  const out = slots.map(({ pid, process, slot, cap }, i): CapvRow => {
    const described = space.switcher.describeTarget(cap);
    const kind: CapvRow['kind'] = !cap.tag ? 'untagged' : described !== undefined ? 'target' : cap.sealed ? 'sealed' : 'memory';
    const a = answers.get(i);
    return {
      pid,
      process,
      slot,
      slotName: (daemons.has(pid) ? DAEMON_CAPV_NAMES[slot] : CAPV_SLOT_NAMES[slot]) ?? 'ad hoc',
      capability: cap.toString(),
      kind,
      target: described === undefined ? undefined : { pid: described.pid, tid: described.tid, name: described.name },
      answerback: a !== undefined && E.isRight(a) ? a.right : undefined,
      error: a !== undefined && E.isLeft(a) ? a.left : undefined,
    };
  });
  return out;
}

/**
 * Threads: every non-empty capv slot, by kind only — targets are not asked for answerbacks
 * (that needs an inspector co-process, which the threads runtime would load by module).
 */
function capvRowsByKind(space: AddressSpaceApi, rows: readonly ProcessRow[], daemons: ReadonlySet<number>, coprocd: number | undefined): CapvRow[] {
  return rows.flatMap((p) =>
    [...(space.capvOf(p.pid) ?? []).entries()].flatMap(([slot, cap]): CapvRow[] =>
      cap === undefined
        ? []
        : [
            {
              pid: p.pid,
              process: p.name,
              slot,
              slotName: (p.pid === coprocd ? COPROCD_CAPV_NAMES[slot] : daemons.has(p.pid) ? DAEMON_CAPV_NAMES[slot] : CAPV_SLOT_NAMES[slot]) ?? 'ad hoc',
              capability: cap.toString(),
              kind: !cap.tag ? 'untagged' : cap.sealed ? 'sealed' : 'memory',
              target: undefined,
              answerback: undefined,
              error: undefined,
            },
          ],
    ),
  );
}

export interface InspectOptions {
  readonly runtime?: RuntimeKind;
  /** Ask capv targets for their answerbacks (spawns an inspector co-process). */
  readonly answerbacks?: boolean;
  readonly answerbackTimeoutMs?: number;
  /** Extra hooks (a tracer) to run alongside. */
  readonly onSpace?: ExampleHooks['onSpace'];
  readonly print?: (line: string) => void;
}

/** Run `example` and snapshot each of its address spaces before it shuts down. */
export async function inspectExample(example: Example, options: InspectOptions = {}): Promise<Inspection> {
  const output: string[] = [];
  const spaces: SpaceSnapshot[] = [];
  const code = await example.run({
    print: options.print ?? ((line) => void output.push(line)),
    ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
    ...(options.onSpace === undefined ? {} : { onSpace: options.onSpace }),
    beforeShutdown: async (space, kernel: Microkernel | undefined) => {
      // Listed before the inspector co-process (if any) exists.
      const processes = processRows(space);
      const status = kernel?.status();
      const daemonPids = new Set(Object.values(status ?? {}).map((s) => s.pid));
      const capv =
        options.answerbacks !== true ? [] : space instanceof AddressSpace ? await capvRows(space, processes, daemonPids, options.answerbackTimeoutMs ?? 250) : capvRowsByKind(space, processes, daemonPids, kernel?.pid);
      spaces.push({
        processes,
        capv,
        // On threads the daemons answer from their own workers (Microkernel.inspectAsync).
        microkernel: kernel === undefined ? undefined : await kernel.inspectAsync(),
        daemons: status === undefined || kernel === undefined ? undefined : { coprocd: kernel.pid, ...Object.fromEntries(Object.entries(status).map(([name, s]) => [name, s.pid])) },
      });
    },
  });
  return { example: example.name, code, output, spaces };
}
