/**
 * ipcd's state and the code it lends to clients. One PortTable per coport type (records in
 * ipcd memory, sealed token handles), the arena for rings and carrier copies, and per type an
 * entry: ipcd code installed in its own text and sealed with the type's otype, which clients
 * CInvoke with a port handle to run the COCHANNEL/COPIPE data path and copoll on their own
 * thread. Only ipcd holds the sealing keys, so neither entries nor handles can be forged.
 */
import * as E from 'fp-ts/lib/Either.js';
import { CoThread, sysError, type Capability, type CapMachine, type CoProcessContext, type EntryCode, type SysError } from '@comsg/capmachine';
import { TokenMint } from '@comsg/abi';
import type { EntryRequest, PortInfo } from '../protocol/entry.js';
import { ALL_RIGHTS, COPORT_TYPES, DEFAULT_IPCD_LIMITS, PollEvent, type CoportTypeName, type IpcdLimits } from '../protocol/types.js';
import { Arena } from './arena.js';
import { CarrierState } from './carrier.js';
import { retrying } from './checks.js';
import { channelRecv, channelSend } from './cochannel.js';
import { currentEvents, copoll } from './copoll.js';
import { pipeRecvWait, pipeSend, pipeSendWait } from './copipe.js';
import { Rec, Status, acquire, publish, updateEvents } from './port-record.js';
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
  ) {
    this.tables = tables;
    this.arena = arena;
    this.carrier = carrier;
    this.entries = entries;
  }

  static create(ctx: CoProcessContext, keys: IpcdKeys, limits: Partial<IpcdLimits> = {}, exempt: (pid: number) => boolean = () => false): E.Either<SysError, Ipcd> {
    const lim: IpcdLimits = { ...DEFAULT_IPCD_LIMITS, ...limits };
    const m = ctx.machine;
    const records = ctx.malloc(PortTable.recordBytes(lim.portsPerType) * COPORT_TYPES.length);
    if (E.isLeft(records)) return records;
    const arenaCap = ctx.malloc(lim.arenaBytes);
    if (E.isLeft(arenaCap)) return arenaCap;
    const mints = TokenMint.family(m, keys.types, keys.tokens, COPORT_TYPES.length);
    const per = BigInt(PortTable.recordBytes(lim.portsPerType));
    const tables = Object.fromEntries(
      COPORT_TYPES.map((type, i) => [type, new PortTable(m, type, m.restrict(records.right, per * BigInt(i), per), mints[i]!, lim.portsPerType)]),
    ) as Record<CoportTypeName, PortTable>;
    const arena = new Arena(m, arenaCap.right);
    const carrier = new CarrierState(m, arena, lim.queueDepth, (pid, then) => void ctx.exitOf(pid)?.then(then));
    const all = Object.values(tables);
    const code = ctx.loadCode(
      Object.fromEntries(COPORT_TYPES.map((type) => [type, entryCode(m, tables[type], all)])) as Record<CoportTypeName, EntryCode>,
    );
    if (E.isLeft(code)) return code;
    const entries = Object.fromEntries(COPORT_TYPES.map((type) => [type, tables[type].mint.seal(code.right[type])])) as Record<CoportTypeName, Capability>;
    return E.right(new Ipcd(m, lim, exempt, tables, arena, carrier, entries));
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
  close(thread: CoThread, table: PortTable, port: PortSlot): void {
    const m = this.machine;
    port.closed = true;
    m.storeI32(port.rec, Rec.CLOSED, 1);
    updateEvents(m, port.rec, PollEvent.CLOSED, PollEvent.OUT);
    if (table.type === 'COCARRIER') {
      this.carrier.freeOutstanding(port);
      this.carrier.sync(thread, port, PollEvent.CLOSED);
    } else {
      publish(m, thread, port.rec);
    }
    this.reclaim(thread, table);
  }

  /**
   * Release closed ports nobody can still use: drained channels, idle pipes, carriers with no
   * queued or outstanding messages. Their slots move to the next generation.
   */
  reclaim(thread: CoThread, table: PortTable): number {
    const m = this.machine;
    let freed = 0;
    for (const port of [...table.slots.values()]) {
      if (!port.closed) continue;
      let ok: boolean;
      if (table.type === 'COCARRIER') {
        ok = this.carrier.releasable(port);
        if (ok) this.carrier.freeAll(port);
      } else {
        const drained = table.type === 'COPIPE' || m.loadI32(port.rec, Rec.LENGTH) === 0;
        ok = drained && acquire(m, port.rec, Status.OPEN);
      }
      if (!ok) continue;
      table.free(port);
      publish(m, thread, port.rec);
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
        if (m.loadI32(port.rec, Rec.STATUS) !== Status.OPEN && table.type === 'COCHANNEL') problems.push(`${at}: lock held at rest`);
        const len = m.loadI32(port.rec, Rec.LENGTH);
        const cap = m.loadI32(port.rec, Rec.CAPACITY);
        if (table.type === 'COCHANNEL') {
          if (len < 0 || len > cap) problems.push(`${at}: length ${len} outside [0, ${cap}]`);
          for (const off of [Rec.START, Rec.END]) if (m.loadI32(port.rec, off) < 0 || m.loadI32(port.rec, off) >= Math.max(cap, 1)) problems.push(`${at}: ring index out of range`);
          if (port.ring === undefined) problems.push(`${at}: channel without a ring`);
        }
        if (table.type === 'COCARRIER') {
          const c = this.carrier.of(port);
          if (len !== c.queue.length) problems.push(`${at}: record length ${len}, queue ${c.queue.length}`);
          if (c.queue.length > this.limits.queueDepth) problems.push(`${at}: queue deeper than ${this.limits.queueDepth}`);
          for (const msg of [...c.queue, ...c.outstanding.values()]) if (!m.isLive(msg.alloc.cap)) problems.push(`${at}: a message's memory was revoked while queued`);
        }
      }
    }
    if (this.arena.bytesInUse < 0) problems.push('arena: negative bytes in use');
    return problems;
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

/** The code behind one type's entry: validate the request, then run the operation. */
function entryCode(m: CapMachine, table: PortTable, all: readonly PortTable[]): EntryCode {
  const eopnotsupp = (op: string) => E.left(sysError('EOPNOTSUPP', op, `${table.type} does not support ${op} through its entry`));
  return (_pcc, data, arg) => {
    const req = arg as EntryRequest;
    if (typeof req !== 'object' || req === null || typeof req.op !== 'string') return E.left(sysError('EINVAL', 'coport', 'malformed request'));
    const needsThread = req.op !== 'restrict' && req.op !== 'info';
    if (needsThread && !((req as { thread?: unknown }).thread instanceof CoThread)) return wrap(req.op, E.left(sysError('EINVAL', req.op, 'request needs the calling thread')));
    const resolved = table.resolve(table.mint.decode(data));
    if (resolved === 'invalid') return wrap(req.op, E.left(sysError('EINVAL', req.op, 'not a coport handle')));
    if (resolved === 'stale') return wrap(req.op, E.left(sysError('EPIPE', req.op, 'coport was closed')));
    const port = resolved;
    const timeout = (t: unknown): number => (typeof t === 'number' && !Number.isNaN(t) ? t : -1);
    switch (req.op) {
      case 'send':
        return table.type === 'COCHANNEL' ? channelSend(m, req.thread, port, req.buf, req.len) : table.type === 'COPIPE' ? pipeSend(m, req.thread, port, req.buf, req.len) : eopnotsupp('send');
      case 'recv':
        return table.type === 'COCHANNEL'
          ? channelRecv(m, req.thread, port, req.buf, req.len)
          : table.type === 'COPIPE'
            ? E.left(sysError('EAGAIN', 'corecv', 'a COPIPE receive waits for a sender: use a waiting receive'))
            : eopnotsupp('recv');
      case 'sendWait':
        if (table.type === 'COCHANNEL') return retrying(m, req.thread, port.rec, 'cosend', timeout(req.timeoutMs), () => channelSend(m, req.thread, port, req.buf, req.len));
        if (table.type === 'COPIPE') return pipeSendWait(m, req.thread, port, req.buf, req.len, timeout(req.timeoutMs));
        return Promise.resolve(eopnotsupp('sendWait'));
      case 'recvWait':
        if (table.type === 'COCHANNEL') return retrying(m, req.thread, port.rec, 'corecv', timeout(req.timeoutMs), () => channelRecv(m, req.thread, port, req.buf, req.len));
        if (table.type === 'COPIPE') return pipeRecvWait(m, req.thread, port, req.buf, req.len, timeout(req.timeoutMs));
        return Promise.resolve(eopnotsupp('recvWait'));
      case 'poll':
        return copoll(m, all, req.thread, req.entries, timeout(req.timeoutMs));
      case 'restrict': {
        if (typeof req.rights !== 'number' || !Number.isInteger(req.rights) || (req.rights & ~ALL_RIGHTS) !== 0) {
          return E.left(sysError('EINVAL', 'corestrict', 'rights must be a subset of RECV|SEND|CLOSE'));
        }
        const perms = (port.rights & ~ALL_RIGHTS) | (port.rights & req.rights);
        return E.right(table.mint.mint(port.slot, port.gen, perms));
      }
      case 'info': {
        const info: PortInfo = {
          type: table.type,
          rights: port.rights & ALL_RIGHTS,
          closed: m.loadI32(port.rec, Rec.CLOSED) !== 0,
          events: currentEvents(m, table.type, port.rec),
          length: m.loadI32(port.rec, Rec.LENGTH),
          capacity: m.loadI32(port.rec, Rec.CAPACITY),
        };
        return E.right(info);
      }
      default:
        return E.left(sysError('EINVAL', 'coport', `unknown request ${String((req as { op: unknown }).op)}`));
    }
  };
}

/** Waiting requests answer with a promise even when they fail validation. */
function wrap(op: string, r: E.Either<SysError, never>): unknown {
  return op === 'sendWait' || op === 'recvWait' || op === 'poll' ? Promise.resolve(r) : r;
}

