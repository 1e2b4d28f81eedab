/**
 * The code behind the coport entries: what a client runs on its own thread when it CInvokes
 * a type's entry with a port handle (COCHANNEL/COPIPE data path, copoll, corestrict, info).
 * It is built from a parameter block in ipcd memory alone — the handle keys, the token space
 * and the port records — so any thread of any runtime can build an identical copy: ipcd
 * loads it, and a threads-runtime worker links it from this module before its first CInvoke.
 */
import * as E from 'fp-ts/lib/Either.js';
import { sysError, type Capability, type CapMachine, type CoThreadApi, type EntryCode, type SysError } from '@comsg/capmachine';
import { TokenMint } from '@comsg/abi';
import type { EntryRequest, PortInfo } from '../protocol/entry.js';
import { ALL_RIGHTS, COPORT_TYPES, type CoportTypeName } from '../protocol/types.js';
import { retrying } from './checks.js';
import { channelHeld, channelRecv, channelSend } from './cochannel.js';
import { currentEvents, copoll } from './copoll.js';
import { pipeRecvWait, pipeSend, pipeSendWait } from './copipe.js';
import { Rec } from './port-record.js';
import { PortTable } from './port-table.js';

/** Parameter block: the handle types key, the token space, the records (caps), ports per type. */
const P = { TYPES: 0, TOKENS: 16, RECORDS: 32, PORTS: 48 } as const;
export const ENTRY_PARAMS_BYTES = 64;

export interface EntryParams {
  readonly types: Capability;
  readonly tokens: Capability;
  readonly records: Capability;
  readonly portsPerType: number;
}

export function writeEntryParams(m: CapMachine, block: Capability, p: EntryParams): void {
  m.storeCap(block, P.TYPES, p.types);
  m.storeCap(block, P.TOKENS, p.tokens);
  m.storeCap(block, P.RECORDS, p.records);
  m.storeI32(block, P.PORTS, p.portsPerType);
}

/** One PortTable per type over consecutive slices of `records`: ipcd's and every linked copy alike. */
export function portTables(m: CapMachine, types: Capability, tokens: Capability, records: Capability, portsPerType: number): Record<CoportTypeName, PortTable> {
  const mints = TokenMint.family(m, types, tokens, COPORT_TYPES.length);
  const per = BigInt(PortTable.recordBytes(portsPerType));
  return Object.fromEntries(COPORT_TYPES.map((type, i) => [type, new PortTable(m, type, m.restrict(records, per * BigInt(i), per), mints[i]!, portsPerType)])) as Record<
    CoportTypeName,
    PortTable
  >;
}

/** The CodeFactory ipcd loads: one entry per coport type. */
export function coportEntries(m: CapMachine, params: Capability): Record<CoportTypeName, EntryCode> {
  const tables = portTables(m, m.loadCap(params, P.TYPES), m.loadCap(params, P.TOKENS), m.loadCap(params, P.RECORDS), m.loadI32(params, P.PORTS));
  const all = Object.values(tables);
  return Object.fromEntries(COPORT_TYPES.map((type) => [type, entryCode(m, tables[type], all)])) as Record<CoportTypeName, EntryCode>;
}

/** This module's URL, in sources (.ts) or in the build (a tsup entry of its own). */
export function entryCodeModule(): string {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('./entry-code.ts', here).href;
  return new URL(`./server/entry-code${here.endsWith('.cjs') ? '.cjs' : '.js'}`, here).href;
}

/** The code behind one type's entry: validate the request, then run the operation. */
function entryCode(m: CapMachine, table: PortTable, all: readonly PortTable[]): EntryCode {
  const eopnotsupp = (op: string) => E.left(sysError('EOPNOTSUPP', op, `${table.type} does not support ${op} through its entry`));
  // One closure per entry, none per call: this runs once per message.
  return function coportEntry(_pcc, data, arg) {
    const req = arg as EntryRequest;
    if (typeof req !== 'object' || req === null || typeof req.op !== 'string') return E.left(sysError('EINVAL', 'coport', 'malformed request'));
    const needsThread = req.op !== 'restrict' && req.op !== 'info';
    if (needsThread && !isThread((req as { thread?: unknown }).thread)) return wrap(req.op, E.left(sysError('EINVAL', req.op, 'request needs the calling thread')));
    const resolved = table.resolve(table.mint.decode(data));
    if (resolved === 'invalid') return wrap(req.op, E.left(sysError('EINVAL', req.op, 'not a coport handle')));
    if (resolved === 'stale') return wrap(req.op, E.left(sysError('EPIPE', req.op, 'coport was closed')));
    const port = resolved;
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
        if (table.type === 'COCHANNEL') return retrying(m, req.thread, port.rec, 'cosend', timeout(req.timeoutMs), () => channelSend(m, req.thread, port, req.buf, req.len), { words: port.words, offset: Rec.START });
        if (table.type === 'COPIPE') return pipeSendWait(m, req.thread, port, req.buf, req.len, timeout(req.timeoutMs));
        return Promise.resolve(eopnotsupp('sendWait'));
      case 'recvWait':
        if (table.type === 'COCHANNEL') return retrying(m, req.thread, port.rec, 'corecv', timeout(req.timeoutMs), () => channelRecv(m, req.thread, port, req.buf, req.len), { words: port.words, offset: Rec.END });
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
          events: currentEvents(m, table.type, port),
          length: table.type === 'COCHANNEL' ? channelHeld(port.words) : port.words.load(Rec.LENGTH),
          capacity: m.loadI32(port.rec, Rec.CAPACITY),
        };
        return E.right(info);
      }
      default:
        return E.left(sysError('EINVAL', 'coport', `unknown request ${String((req as { op: unknown }).op)}`));
    }
  };
}

const timeout = (t: unknown): number => (typeof t === 'number' && !Number.isNaN(t) ? t : -1);

/** The calling thread, as the runtime gave it to the caller (both runtimes' threads can wait and wake). */
function isThread(x: unknown): x is CoThreadApi {
  const t = x as Partial<CoThreadApi> | null;
  return typeof t === 'object' && t !== null && typeof t.futexWait === 'function' && typeof t.futexWake === 'function' && typeof t.now === 'function';
}

/** Waiting requests answer with a promise even when they fail validation. */
function wrap(op: string, r: E.Either<SysError, never>): unknown {
  return op === 'sendWait' || op === 'recvWait' || op === 'poll' ? Promise.resolve(r) : r;
}

