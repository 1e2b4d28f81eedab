/**
 * The producer and consumer of the stream demo (stream.ts) as program modules, so the same
 * code runs under either runtime. argv: [name, coport type, messages, max payload, namespace].
 * capv[0] is the host's tally block: each side writes {messages, bytes, checksum} there
 * (producer at 0, consumer at 16) so the host can compare them.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability, CoProcessContext, SysError } from '@comsg/libcoproc';
import { coclose, cocreate, coprocInit, corecv, corestrict, coselect, cosend, openNamedCoport, CoportRight, type CoportTypeName, type UkernThread } from '@comsg/libcomsg';

/** FNV-1a over a byte sequence, continued from `h`. */
export function fnv1a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** The deterministic payload of message `i`. */
export function payload(i: number, maxPayload: number): Uint8Array {
  const len = 1 + ((i * 37) % maxPayload);
  return Uint8Array.from({ length: len }, (_, j) => (i * 31 + j * 7) & 0xff);
}

export interface Tally {
  messages: number;
  bytes: number;
  sum: number;
}

export const TALLY_BYTES = 32;
export const PRODUCER_TALLY = 0;
export const CONSUMER_TALLY = 16;

export const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
export const describe = (e: SysError) => `${e._tag} (${e.op}: ${e.message})`;

class Failure extends Error {}
function must<T>(what: string, r: E.Either<SysError, T>): T {
  if (E.isLeft(r)) throw new Failure(`${what}: ${describe(r.left)}`);
  return r.right;
}

interface Args {
  readonly type: CoportTypeName;
  readonly count: number;
  readonly maxPayload: number;
  readonly ns: string;
  readonly tag: string;
}

function args(ctx: CoProcessContext): Args {
  const [, type = 'COCHANNEL', count = '200', maxPayload = '200', ns = 'demo'] = ctx.argv;
  return { type: type as CoportTypeName, count: Number(count), maxPayload: Number(maxPayload), ns, tag: type.toLowerCase() };
}

function writeTally(ctx: CoProcessContext, at: number, t: Tally): void {
  const block = ctx.capv[0];
  if (block === undefined) return;
  ctx.machine.storeI32(block, at, t.messages);
  ctx.machine.storeI32(block, at + 4, t.bytes);
  ctx.machine.storeI32(block, at + 8, t.sum | 0);
  ctx.machine.storeI32(block, at + 12, 1);
}

/** Send one framed message: header + payload in one send (one copy for every type). */
async function sendFrame(k: UkernThread, ctx: CoProcessContext, port: Capability, buf: Capability, body: Uint8Array): Promise<void> {
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, 4);
  ctx.machine.store(buf, 0, frame);
  must('cosend', await cosend(k, port, buf, frame.length, { timeoutMs: 10_000 }));
}

/** Receive frames until the end marker; COCHANNEL reassembles them from the byte stream. */
async function receiveAll(type: CoportTypeName, k: UkernThread, ctx: CoProcessContext, port: Capability, buf: Capability, size: number): Promise<Tally> {
  const t: Tally = { messages: 0, bytes: 0, sum: 0x811c9dc5 };
  let pending: Uint8Array = new Uint8Array(0);
  for (;;) {
    const n = must('corecv', await corecv(k, port, buf, size, { timeoutMs: 10_000 }));
    const chunk = ctx.machine.load(buf, 0, n);
    pending = type === 'COCHANNEL' ? concat(pending, chunk) : chunk;
    while (pending.length >= 4) {
      const len = new DataView(pending.buffer, pending.byteOffset).getUint32(0, true);
      if (pending.length < 4 + len) break;
      if (len === 0) return t;
      const body = pending.subarray(4, 4 + len);
      t.messages++;
      t.bytes += len;
      t.sum = fnv1a(body, t.sum);
      pending = pending.slice(4 + len);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Opens "stream" in the namespace and receives until the end marker. */
export async function consumer(ctx: CoProcessContext): Promise<number> {
  const a = args(ctx);
  try {
    const k = must('coproc_init', await coprocInit(ctx));
    const app = must('cocreate', await cocreate(k, a.ns, 'APPLICATION', k.root));
    const named = must('open_named_coport', await openNamedCoport(k, 'stream', a.type, app.ns));
    ctx.print(`[${a.tag}] consumer[${ctx.pid}]: opened ${a.type} "stream" in namespace "${a.ns}"`);
    const size = a.type === 'COCHANNEL' ? 4096 : 4 + a.maxPayload;
    const buf = must('malloc', ctx.malloc(size));
    const received = await receiveAll(a.type, k, ctx, named.port, buf, size);
    ctx.print(`[${a.tag}] consumer[${ctx.pid}]: received ${received.messages} messages, ${received.bytes} bytes, checksum ${hex(received.sum)}`);
    must('coclose', await coclose(k, named.port));
    writeTally(ctx, CONSUMER_TALLY, received);
    return 0;
  } catch (e) {
    ctx.print(`[${a.tag}] consumer: ${e instanceof Failure ? e.message : String(e)}`);
    return 1;
  }
}

/** Finds "stream", narrows the handle to send-only and streams the messages, then the end marker. */
export async function producer(ctx: CoProcessContext): Promise<number> {
  const a = args(ctx);
  try {
    const k = must('coproc_init', await coprocInit(ctx));
    const app = must('cocreate', await cocreate(k, a.ns, 'APPLICATION', k.root));
    // The consumer may still be starting (a worker loading its modules on a busy machine can
    // take seconds): look again until it has stored the port, for up to 60 s of its clock.
    const giveUpAt = ctx.thread.now() + 60_000;
    let found = await coselect(k, 'stream', 'COPORT', app.ns);
    while (E.isLeft(found) && found.left._tag === 'ENOENT' && ctx.thread.now() < giveUpAt) {
      await ctx.thread.sleep(1);
      found = await coselect(k, 'stream', 'COPORT', app.ns);
    }
    const obj = must('coselect', found).obj;
    if (obj === undefined) throw new Failure('coselect: no port stored under "stream"');
    const port = must('corestrict', await corestrict(k, obj, CoportRight.SEND));
    ctx.print(`[${a.tag}] producer[${ctx.pid}]: found "stream"; sending ${a.count} messages through a send-only handle`);
    const buf = must('malloc', ctx.malloc(4 + a.maxPayload));
    const t: Tally = { messages: 0, bytes: 0, sum: 0x811c9dc5 };
    for (let i = 0; i < a.count; i++) {
      const body = payload(i, a.maxPayload);
      await sendFrame(k, ctx, port, buf, body);
      t.messages++;
      t.bytes += body.length;
      t.sum = fnv1a(body, t.sum);
    }
    await sendFrame(k, ctx, port, buf, new Uint8Array(0));
    ctx.print(`[${a.tag}] producer[${ctx.pid}]: sent ${t.messages} messages, ${t.bytes} bytes, checksum ${hex(t.sum)}`);
    writeTally(ctx, PRODUCER_TALLY, t);
    return 0;
  } catch (e) {
    ctx.print(`[${a.tag}] producer: ${e instanceof Failure ? e.message : String(e)}`);
    return 1;
  }
}
