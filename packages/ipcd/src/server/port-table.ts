/**
 * The ports of one coport type: records in ipcd memory, slots recycled with generations, and
 * the TokenMint that seals handles. Handles are tokens (slot, generation, rights) sealed with
 * the type's otype, so a handle to a closed port never names its slot's next occupant.
 */
import { Perm, type ByteWindow, type Capability, type CapMachine, type WordWindow } from '@comsg/capmachine';
import { SlotTable, type OpenedToken, type TokenMint } from '@comsg/abi';
import { type CoportTypeName } from '../protocol/types.js';
import { RECORD_BYTES, Rec, Status, clearBuf } from './port-record.js';

/** Counters and flags a fresh port starts from (a slot's previous port may have left anything). */
const ZEROED_AT_OPEN = [Rec.LENGTH, Rec.START, Rec.END, Rec.RECV_END, Rec.SEND_START, Rec.RECV_EVENTS, Rec.SEND_EVENTS, Rec.RESULT, Rec.VIEW_SEQ, Rec.OFFER_SEQ, Rec.SENDERS, Rec.WAITERS, Rec.OFFER_LEN, Rec.OFFER_RESULT, Rec.DONE_BELL, Rec.READY_BELL, Rec.SENDER_SLOTS, Rec.SENDER_SLOTS + 4, Rec.SENDER_SLOTS + 8, Rec.SENDER_SLOTS + 12] as const;

export interface PortSlot {
  readonly slot: number;
  readonly gen: number;
  readonly rec: Capability;
  /** ipcd-private: the region behind the ring (COCHANNEL). */
  ring?: { readonly free: () => void };
  closed: boolean;
  /** The co-process that opened it (charged against its quota until the slot is released). */
  owner: number;
}

/** A port resolved from a handle: its record and the rights the handle carries. */
export interface ResolvedPort {
  readonly slot: number;
  readonly gen: number;
  readonly rec: Capability;
  /** The record's words (a window whose capability was found live for this operation). */
  readonly words: WordWindow;
  readonly rights: number;
  readonly table: PortTable;
}

export class PortTable {
  readonly slots: SlotTable<PortSlot>;
  readonly #m: CapMachine;
  readonly #records: Capability;
  /**
   * Record capabilities by slot with their word windows, derived once: every client operation
   * needs its port's. `record` re-checks liveness each time, the only part of a window's check
   * that can change for an immutable capability.
   */
  readonly #recs: Array<{ readonly rec: Capability; readonly words: WordWindow } | undefined>;
  /** COCHANNEL rings by slot, loaded once per port (a ring is fixed for its port's lifetime). */
  readonly #rings: Array<{ readonly gen: number; readonly ring: ByteWindow } | undefined>;
  /** The last token resolved, and to what. */
  #lastResolved: { readonly token: OpenedToken; readonly port: ResolvedPort } | undefined;
  /** COPIPE: per record slot, the view this table last stored there (PIPE_BUF or OFFER_BUF), and its sequence word after the store. */
  readonly #storedViews = new Map<number, { readonly gen: number; readonly view: Capability; readonly seq: number }>();
  /** COPIPE views by buffer (see receiveView, sendView). */
  readonly #views = new WeakMap<Capability, { readonly len: number; readonly view: Capability }>();
  readonly #sendViews = new WeakMap<Capability, { readonly len: number; readonly view: Capability }>();

  constructor(
    machine: CapMachine,
    readonly type: CoportTypeName,
    records: Capability,
    readonly mint: TokenMint,
    readonly capacity: number,
  ) {
    this.#m = machine;
    this.#records = records;
    this.slots = new SlotTable<PortSlot>(capacity);
    this.#recs = new Array<{ rec: Capability; words: WordWindow } | undefined>(capacity).fill(undefined);
    this.#rings = new Array<{ gen: number; ring: ByteWindow } | undefined>(capacity).fill(undefined);
  }

  static recordBytes(ports: number): number {
    return ports * RECORD_BYTES;
  }

  record(slot: number): Capability {
    return this.#record(slot).rec;
  }

  #record(slot: number): { readonly rec: Capability; readonly words: WordWindow } {
    const known = this.#recs[slot];
    if (known !== undefined && this.#m.isLive(known.rec)) return known;
    const rec = this.#m.restrict(this.#records, BigInt(slot * RECORD_BYTES), BigInt(RECORD_BYTES));
    const entry = { rec, words: this.#m.words(rec) };
    this.#recs[slot] = entry;
    return entry;
  }

  /** Occupy a slot and initialise its record; undefined when every slot is taken. */
  allocate(init: { events: number; capacity: number; buf?: Capability }): PortSlot | undefined {
    const claim = this.slots.claim();
    if (claim === undefined) return undefined;
    const m = this.#m;
    const rec = this.record(claim.slot);
    m.storeI32(rec, Rec.STATUS, Status.OPEN);
    m.storeI32(rec, Rec.SEND_LOCK, Status.OPEN);
    m.storeI32(rec, Rec.OFFER, Status.OPEN);
    m.storeI32(rec, Rec.CLOSED, 0);
    m.storeI32(rec, Rec.EVENTS, init.events);
    for (const off of ZEROED_AT_OPEN) m.storeI32(rec, off, 0);
    m.storeI32(rec, Rec.CAPACITY, init.capacity);
    m.storeI32(rec, Rec.GEN, claim.gen);
    if (init.buf !== undefined) m.storeCap(rec, Rec.BUF, init.buf);
    else clearBuf(m, rec);
    clearBuf(m, rec, Rec.PIPE_BUF);
    clearBuf(m, rec, Rec.OFFER_BUF);
    const port: PortSlot = { slot: claim.slot, gen: claim.gen, rec, closed: false, owner: -1 };
    this.slots.put(port);
    return port;
  }

  /** Retire the slot: the record's generation moves on, so every old handle is stale. */
  free(port: PortSlot): void {
    this.#m.storeI32(port.rec, Rec.GEN, port.gen + 1);
    clearBuf(this.#m, port.rec);
    clearBuf(this.#m, port.rec, Rec.PIPE_BUF);
    clearBuf(this.#m, port.rec, Rec.OFFER_BUF);
    port.ring?.free();
    this.slots.release(port);
  }

  handle(port: PortSlot, rights: number): Capability {
    return this.mint.mint(port.slot, port.gen, rights);
  }

  /** Daemon side: a sealed handle of this type → its live slot, or `stale` if that port is gone. */
  open(handle: unknown): { port: PortSlot; rights: number } | 'stale' | undefined {
    const t = this.mint.open(handle);
    if (t === undefined || t.slot >= this.capacity) return undefined;
    const port = this.slots.get(t.slot, t.gen);
    return port === undefined ? 'stale' : { port, rights: t.perms };
  }

  /**
   * Client side (inside CInvoke): an unsealed token → its record, checked against the
   * generation stored in memory (no JS state of ipcd's involved). `stale` = the port is gone.
   */
  resolve(token: OpenedToken | undefined): ResolvedPort | 'invalid' | 'stale' {
    if (token === undefined || token.slot >= this.capacity) return 'invalid';
    const last = this.#lastResolved;
    // A stream resolves one token over and over (the mint hands back the same token object).
    if (last !== undefined && last.token === token && this.#m.isLive(last.port.rec)) {
      return last.port.words.load(Rec.GEN) === token.gen ? last.port : 'stale';
    }
    const { rec, words } = this.#record(token.slot);
    if (words.load(Rec.GEN) !== token.gen) return 'stale';
    const port = { slot: token.slot, gen: token.gen, rec, words, rights: token.perms, table: this };
    this.#lastResolved = { token, port };
    return port;
  }

  /**
   * What a COPIPE receiver publishes: its buffer bounded to `len`, STORE only (GLOBAL kept if
   * it had it). A receiver streaming into one buffer gets the same view each time (derived
   * once per buffer and length) instead of two capability derivations per message.
   */
  receiveView(buf: Capability, len: number): Capability {
    return this.#view(this.#views, buf, len, Perm.STORE);
  }

  /** COPIPE: what this table last stored in `port`'s record at `at` (PIPE_BUF or OFFER_BUF; see copipe's publishView). */
  storedView(port: ResolvedPort, at: number): { readonly gen: number; readonly view: Capability; readonly seq: number } | undefined {
    return this.#storedViews.get(port.slot * RECORD_BYTES + at);
  }

  rememberView(port: ResolvedPort, at: number, view: Capability, seq: number): void {
    this.#storedViews.set(port.slot * RECORD_BYTES + at, { gen: port.gen, view, seq });
  }

  /** What a waiting COPIPE sender offers: its message bounded to `len`, LOAD only (GLOBAL kept), cached the same way. */
  sendView(buf: Capability, len: number): Capability {
    return this.#view(this.#sendViews, buf, len, Perm.LOAD);
  }

  #view(cache: WeakMap<Capability, { readonly len: number; readonly view: Capability }>, buf: Capability, len: number, perm: number): Capability {
    const known = cache.get(buf);
    if (known !== undefined && known.len === len) return known.view;
    const m = this.#m;
    const at = m.setBoundsExact(buf, BigInt(len));
    const view = m.andPerm(at.tag ? at : m.setBounds(buf, BigInt(len)), perm | (buf.perms & Perm.GLOBAL));
    cache.set(buf, { len, view });
    return view;
  }

  /**
   * The ring of a resolved COCHANNEL port: its record's BUF, loaded and opened as a ByteWindow
   * once per generation (re-checked live each time). Traps as an access would when BUF is not
   * a usable capability.
   */
  ring(port: ResolvedPort): ByteWindow {
    const known = this.#rings[port.slot];
    if (known !== undefined && known.gen === port.gen && this.#m.isLive(known.ring.cap)) return known.ring;
    const ring = this.#m.bytes(this.#m.loadCap(port.rec, Rec.BUF));
    this.#rings[port.slot] = { gen: port.gen, ring };
    return ring;
  }
}
