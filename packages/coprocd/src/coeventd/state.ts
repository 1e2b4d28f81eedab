/**
 * coeventd's state: one death event per listened pid, callback functions (targets coeventd
 * will cocall) and, per event, the installed callbacks in order. Handles are sealed tokens
 * (comsg's were writable pointers into the table). Argument bytes are copied at install
 * time (comsg read them from the installer's memory when firing).
 */
import { Perm, type Capability, type CapMachine } from '@comsg/capmachine';
import { SlotTable, TokenMint } from '@comsg/abi';

export interface CallbackFunction {
  readonly slot: number;
  readonly gen: number;
  readonly target: Capability;
  readonly flags: number;
  readonly provider: number;
}

export interface Callback {
  readonly func: CallbackFunction;
  /** coeventd's own copy of the argument bytes. */
  readonly args: Capability | undefined;
  readonly len: number;
}

export interface DeathEvent {
  readonly slot: number;
  readonly gen: number;
  readonly pid: number;
  readonly callbacks: Callback[];
  state: 'armed' | 'firing' | 'fired';
}

/** What happened when an event fired: one line per callback. */
export interface FireReport {
  readonly pid: number;
  readonly position: number;
  readonly provider: number;
  readonly outcome: 'called' | 'skipped: provider gone' | `failed: ${string}`;
}

export interface CoeventdKeys {
  /** SEAL|UNSEAL over two otypes: event handles, function handles. */
  readonly types: Capability;
  readonly tokens: Capability;
}

const HANDLE_PERMS = Perm.LOAD | Perm.LOAD_CAP;

export class EventTable {
  readonly events: SlotTable<DeathEvent>;
  readonly functions: SlotTable<CallbackFunction>;
  readonly byPid = new Map<number, DeathEvent>();
  readonly reports: FireReport[] = [];
  readonly #eventMint: TokenMint;
  readonly #funcMint: TokenMint;

  constructor(m: CapMachine, keys: CoeventdKeys, limits = { events: 1024, functions: 1024 }) {
    this.events = new SlotTable(limits.events);
    this.functions = new SlotTable(limits.functions);
    [this.#eventMint, this.#funcMint] = TokenMint.family(m, keys.types, keys.tokens, 2) as [TokenMint, TokenMint];
  }

  eventHandle(e: DeathEvent): Capability {
    return this.#eventMint.mint(e.slot, e.gen, HANDLE_PERMS);
  }
  funcHandle(f: CallbackFunction): Capability {
    return this.#funcMint.mint(f.slot, f.gen, HANDLE_PERMS);
  }
  openEvent(cap: unknown): DeathEvent | undefined {
    const t = this.#eventMint.open(cap);
    return t === undefined ? undefined : this.events.get(t.slot, t.gen);
  }
  openFunc(cap: unknown): CallbackFunction | undefined {
    const t = this.#funcMint.open(cap);
    return t === undefined ? undefined : this.functions.get(t.slot, t.gen);
  }

  /** Invariant checker: the pid index and the event table agree; callbacks are well formed. */
  check(): string[] {
    const problems: string[] = [];
    for (const [pid, e] of this.byPid) {
      if (e.pid !== pid) problems.push(`event for pid ${pid} is filed under pid ${e.pid}`);
      if (this.events.get(e.slot, e.gen) !== e) problems.push(`event for pid ${pid} is not live`);
    }
    for (const e of this.events.values()) {
      if (this.byPid.get(e.pid) !== e) problems.push(`event ${e.slot} (pid ${e.pid}) is missing from the pid index`);
      for (const c of e.callbacks) {
        if (c.len < 0 || (c.len > 0 && (c.args === undefined || Number(c.args.length) < c.len))) problems.push(`event ${e.slot}: callback argument bytes out of bounds`);
      }
    }
    return problems;
  }
}
