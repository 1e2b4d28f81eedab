/**
 * ipcd's state and the code it lends to clients. One PortTable per coport type (records in
 * ipcd memory, sealed token handles), the arena for rings and carrier copies, and per type an
 * entry: ipcd code installed in its own text and sealed with the type's otype, which clients
 * CInvoke with a port handle to run the COCHANNEL/COPIPE data path and copoll on their own
 * thread. Only ipcd holds the sealing keys, so neither entries nor handles can be forged.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Perm, sysError, type Capability, type CapMachine, type CoProcessApi, type CoThreadApi, type SysError } from '@comsg/capmachine';
import { COPORT_TYPES, DEFAULT_IPCD_LIMITS, PollEvent, type CoportTypeName, type IpcdLimits } from '../protocol/types.js';
import { Arena } from './arena.js';
import { ExitWatch } from './exit-watch.js';
import { CarrierState } from './carrier.js';
import { ENTRY_PARAMS_BYTES, coportEntries, entryCodeModule, portTables, writeEntryParams } from './entry-code.js';
import { NOT_TAKEN, RECORD_ALIGN, Rec, Status, acquire, publish, updateEvents } from './port-record.js';
import { channelHeld, channelProblems } from './cochannel.js';
import { PortTable, type PortSlot } from './port-table.js';

export interface IpcdKeys {
  /** SEAL|UNSEAL over at least three otypes (COPIPE, COCARRIER, COCHANNEL handles). */
  readonly types: Capability;
  /** Unbacked token space for handles. */
  readonly tokens: Capability;
}

export interface IpcdStats {
  readonly open: Record<CoportTypeName, number>;
  readonly arenaBytes: number;
  /** Ports held (open or closed but not yet released) per co-process, and the quota. */
  readonly portsByPid: Readonly<Record<number, number>>;
  readonly portsPerProcess: number;
}

export class Ipcd {
  readonly tables: Record<CoportTypeName, PortTable>;
  readonly entries: Record<CoportTypeName, Capability>;
  readonly carrier: CarrierState;
  readonly arena: Arena;

  private constructor(
    readonly machine: CapMachine,
    readonly limits: IpcdLimits,
    readonly exempt: (pid: number) => boolean,
    tables: Record<CoportTypeName, PortTable>,
    arena: Arena,
    carrier: CarrierState,
    entries: Record<CoportTypeName, Capability>,
    /** Exit notifications (kqueue NOTE_EXIT) and the thread that cleans up after them. */
    readonly housekeeping: { readonly exits: ExitWatch; readonly thread: CoThreadApi },
  ) {
    this.tables = tables;
    this.arena = arena;
    this.carrier = carrier;
    this.entries = entries;
  }

  static create(ctx: CoProcessApi, keys: IpcdKeys, limits: Partial<IpcdLimits> = {}, exempt: (pid: number) => boolean = () => false): E.Either<SysError, Ipcd> {
    const lim: IpcdLimits = { ...DEFAULT_IPCD_LIMITS, ...limits };
    // COCHANNEL counts bytes modulo twice the capacity in a 32-bit word.
    if (!(lim.maxChannelBytes >= 1 && lim.maxChannelBytes <= 2 ** 29)) return E.left(sysError('EINVAL', 'ipcd', 'maxChannelBytes must be 1..2^29'));
    const m = ctx.machine;
    const records = alignedRegion(ctx, PortTable.recordBytes(lim.portsPerType) * COPORT_TYPES.length, RECORD_ALIGN);
    if (E.isLeft(records)) return records;
    const arenaCap = ctx.malloc(lim.arenaBytes);
    if (E.isLeft(arenaCap)) return arenaCap;
    const tables = portTables(m, keys.types, keys.tokens, records.right, lim.portsPerType);
    const arena = new Arena(m, arenaCap.right);
    const exits = new ExitWatch((pid) => ctx.exitOf(pid), () => ctx.thread.alive);
    const carrier = new CarrierState(m, arena, lim.queueDepth, (pid, then) => exits.once(pid, 'received carrier messages', then));
    // The entries' code needs only ipcd memory: the records, and the keys to read and mint handles.
    const params = ctx.malloc(ENTRY_PARAMS_BYTES);
    if (E.isLeft(params)) return params;
    writeEntryParams(m, params.right, { types: keys.types, tokens: keys.tokens, records: records.right, portsPerType: lim.portsPerType });
    const code = ctx.loadCode({ module: entryCodeModule(), export: 'coportEntries', names: COPORT_TYPES, params: m.andPerm(params.right, Perm.GLOBAL | Perm.LOAD | Perm.LOAD_CAP) }, coportEntries);
    if (E.isLeft(code)) return code;
    const entries = Object.fromEntries(COPORT_TYPES.map((type) => [type, tables[type].mint.seal(code.right[type])])) as Record<CoportTypeName, Capability>;
    return E.right(new Ipcd(m, lim, exempt, tables, arena, carrier, entries, { exits, thread: ctx.thread }));
  }

  /**
   * A handle of any coport type → its table and live slot; a handle to a port that was closed
   * and released is EPIPE, anything else EINVAL.
   */
  open(handle: unknown, op: string): E.Either<SysError<'EINVAL' | 'EPIPE'>, { table: PortTable; port: PortSlot; rights: number }> {
    for (const table of Object.values(this.tables)) {
      if (!table.mint.owns(handle)) continue;
      const r = table.open(handle);
      if (r === 'stale') return E.left(sysError('EPIPE', op, 'the coport was closed'));
      return r === undefined ? E.left(sysError('EINVAL', op, 'not a coport handle')) : E.right({ table, ...r });
    }
    return E.left(sysError('EINVAL', op, 'not a coport handle'));
  }

  /** Mark a port closed: no more sends, every waiter wakes; received carrier messages are freed. */
  close(thread: CoThreadApi, table: PortTable, port: PortSlot): void {
    const w = this.machine.words(port.rec);
    port.closed = true;
    w.store(Rec.CLOSED, 1);
    if (table.type === 'COCARRIER') {
      updateEvents(w, PollEvent.CLOSED, PollEvent.OUT);
      this.carrier.freeOutstanding(port);
      this.carrier.sync(thread, port, PollEvent.CLOSED);
    } else {
      publish(w, thread);
    }
    this.reclaim(thread, table);
  }

  /**
   * Release closed ports nobody can still use: drained channels, idle pipes, carriers with no
   * queued or outstanding messages. Their slots move to the next generation.
   */
  reclaim(thread: CoThreadApi, table: PortTable): number {
    const m = this.machine;
    let freed = 0;
    for (const port of [...table.slots.values()]) {
      if (!port.closed) continue;
      let ok: boolean;
      if (table.type === 'COCARRIER') {
        ok = this.carrier.releasable(port);
        if (ok) this.carrier.freeAll(port);
      } else {
        // Taken for good (the slot's next port re-initialises the record): no registration
        // kept. Each type has two words: the senders' first (a channel's send lock, a pipe's
        // OFFER), then the receivers'.
        const w = m.words(port.rec);
        const sendWord = table.type === 'COCHANNEL' ? Rec.SEND_LOCK : Rec.OFFER;
        let taken = table.type === 'COPIPE' || channelHeld(w) === 0;
        if (taken) {
          const send = acquire(w, thread, Status.OPEN, sendWord);
          thread.robustLeave(send);
          taken = send !== NOT_TAKEN;
        }
        if (taken) {
          const slot = acquire(w, thread, Status.OPEN);
          thread.robustLeave(slot);
          taken = slot !== NOT_TAKEN;
          // The port stays as it was if its receivers' word is busy: give the senders' back.
          if (!taken) w.store(sendWord, Status.OPEN);
        }
        ok = taken;
      }
      if (!ok) continue;
      table.free(port);
      publish(m.words(port.rec), thread);
      freed++;
    }
    return freed;
  }

  /**
   * Invariant checker (tests, fuzzing, `comsg`): at rest, every live port's record agrees with
   * ipcd's table — generation, closed flag, lengths within capacity, no lock left held — and
   * every queued or outstanding carrier message is a live arena allocation.
   */
  check(): string[] {
    const m = this.machine;
    const problems: string[] = [];
    for (const table of Object.values(this.tables)) {
      for (const port of table.slots.values()) {
        const at = `${table.type}[${port.slot}]`;
        if (m.loadI32(port.rec, Rec.GEN) !== port.gen) problems.push(`${at}: record generation differs from the table's`);
        if ((m.loadI32(port.rec, Rec.CLOSED) !== 0) !== port.closed) problems.push(`${at}: closed flag differs from the table's`);
        if (table.type === 'COCHANNEL') {
          for (const p of channelProblems(m.words(port.rec))) problems.push(`${at}: ${p}`);
          if (port.ring === undefined) problems.push(`${at}: channel without a ring`);
        }
        if (table.type === 'COCARRIER') {
          const c = this.carrier.of(port);
          const len = m.loadI32(port.rec, Rec.LENGTH);
          if (len !== c.queue.length) problems.push(`${at}: record length ${len}, queue ${c.queue.length}`);
          if (c.queue.length > this.limits.queueDepth) problems.push(`${at}: queue deeper than ${this.limits.queueDepth}`);
          for (const msg of [...c.queue, ...c.outstanding.values()]) if (!m.isLive(msg.alloc.cap)) problems.push(`${at}: a message's memory was revoked while queued`);
        }
      }
    }
    if (this.arena.bytesInUse < 0) problems.push('arena: negative bytes in use');
    return problems;
  }

  /**
   * Close `pid`'s ports when it exits (whatever the runtime: a returned main, a fault, a
   * killed worker), so nobody waits on a port whose owner is gone: waiters wake with CLOSED,
   * senders get EPIPE, receivers drain what is left.
   */
  watchOwner(pid: number): void {
    if (pid >= 0) this.housekeeping.exits.once(pid, 'opened ports', () => this.closeAllOf(pid));
  }

  /** Close every port `pid` opened that is still open. */
  closeAllOf(pid: number): number {
    let closed = 0;
    for (const table of Object.values(this.tables)) {
      for (const port of [...table.slots.values()]) {
        if (port.owner !== pid || port.closed) continue;
        this.close(this.housekeeping.thread, table, port);
        closed++;
      }
    }
    return closed;
  }

  /** True when `pid` may not open one more port. */
  overQuota(pid: number): boolean {
    return !this.exempt(pid) && this.portsOf(pid) >= this.limits.portsPerProcess;
  }

  /** Ports `pid` holds across all types (quota accounting). */
  portsOf(pid: number): number {
    let n = 0;
    for (const t of Object.values(this.tables)) for (const p of t.slots.values()) if (p.owner === pid) n++;
    return n;
  }

  stats(): IpcdStats {
    const byPid: Record<number, number> = {};
    for (const t of Object.values(this.tables)) for (const p of t.slots.values()) byPid[p.owner] = (byPid[p.owner] ?? 0) + 1;
    return {
      open: Object.fromEntries(COPORT_TYPES.map((t) => [t, this.tables[t].slots.size])) as Record<CoportTypeName, number>,
      arenaBytes: this.arena.bytesInUse,
      portsByPid: byPid,
      portsPerProcess: this.limits.portsPerProcess,
    };
  }
}

/** A region of `bytes` starting on an `align`-byte boundary (allocations are only granule-aligned). */
function alignedRegion(ctx: CoProcessApi, bytes: number, align: number): E.Either<SysError, Capability> {
  const region = ctx.malloc(bytes + align);
  if (E.isLeft(region)) return region;
  const skip = (align - (region.right.addressNumber % align)) % align;
  return E.right(ctx.machine.restrict(region.right, BigInt(skip), BigInt(bytes)));
}
