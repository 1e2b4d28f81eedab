/**
 * The producer/consumer demo, one program per coport type. A consumer co-process opens a
 * named coport "stream" in an APPLICATION namespace; a producer co-process joins the
 * namespace, finds the port by name, narrows its handle to send-only and streams messages of
 * varying size, then a zero-length end marker. Both sides keep a running FNV-1a checksum and
 * byte count; the transcript shows whether they agree.
 *
 * COCHANNEL is a byte stream, so messages are framed: a 4-byte little-endian length, then the
 * payload. COPIPE and COCARRIER keep message boundaries; their frames carry the same header.
 */
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, bootMicrokernel, type Capability, type CoProcessContext, type SysError } from '@comsg/libcoproc';
import {
  coclose,
  cocreate,
  coprocInit,
  corecv,
  corestrict,
  coselect,
  cosend,
  openNamedCoport,
  CoportRight,
  type CoportTypeName,
  type UkernThread,
} from '@comsg/libcomsg';
import type { ExampleHooks } from '../hooks.js';

export interface StreamOptions extends ExampleHooks {
  readonly messages?: number;
  /** Largest payload (bytes); sizes cycle from 1 up to this. */
  readonly maxPayload?: number;
}

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

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const describe = (e: SysError) => `${e._tag} (${e.op}: ${e.message})`;

class Failure extends Error {}
function must<T>(what: string, r: E.Either<SysError, T>): T {
  if (E.isLeft(r)) throw new Failure(`${what}: ${describe(r.left)}`);
  return r.right;
}

interface Tally {
  messages: number;
  bytes: number;
  sum: number;
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

/** Run the demo for one coport type; returns 0 when both sides agree. */
export async function runStream(type: CoportTypeName, options: StreamOptions = {}): Promise<number> {
  const print = options.print ?? console.log;
  const count = options.messages ?? 200;
  const maxPayload = options.maxPayload ?? 200;
  const tag = type.toLowerCase();
  const space = AddressSpace.create({ stdout: print });
  options.onSpace?.(space);
  const kernel = bootMicrokernel(space);
  const up = await kernel.ready;
  if (E.isLeft(up)) {
    print(`[${tag}] microkernel failed to boot: ${describe(up.left)}`);
    return 1;
  }
  const nsName = `demo-${tag}`;
  let sent: Tally | undefined;
  let received: Tally | undefined;
  let failed = false;
  const fail = (who: string) => (e: unknown) => {
    failed = true;
    print(`[${tag}] ${who}: ${e instanceof Failure ? e.message : String(e)}`);
  };

  space.spawn({
    name: 'consumer',
    main: async (ctx) => {
      try {
        const k = must('coproc_init', await coprocInit(ctx));
        const app = must('cocreate', await cocreate(k, nsName, 'APPLICATION', k.root));
        const named = must('open_named_coport', await openNamedCoport(k, 'stream', type, app.ns));
        print(`[${tag}] consumer[${ctx.pid}]: opened ${type} "stream" in namespace "${nsName}"`);
        const size = 4 + maxPayload;
        const buf = must('malloc', ctx.malloc(type === 'COCHANNEL' ? 4096 : size));
        received = await receiveAll(type, k, ctx, named.port, buf, type === 'COCHANNEL' ? 4096 : size);
        print(`[${tag}] consumer[${ctx.pid}]: received ${received.messages} messages, ${received.bytes} bytes, checksum ${hex(received.sum)}`);
        must('coclose', await coclose(k, named.port));
      } catch (e) {
        fail('consumer')(e);
      }
    },
  });

  space.spawn({
    name: 'producer',
    main: async (ctx) => {
      try {
        const k = must('coproc_init', await coprocInit(ctx));
        const app = must('cocreate', await cocreate(k, nsName, 'APPLICATION', k.root));
        let found = await coselect(k, 'stream', 'COPORT', app.ns);
        for (let tries = 0; E.isLeft(found) && found.left._tag === 'ENOENT' && tries < 1000; tries++) {
          await ctx.thread.sleep(1);
          found = await coselect(k, 'stream', 'COPORT', app.ns);
        }
        const obj = must('coselect', found).obj;
        if (obj === undefined) throw new Failure('coselect: no port stored under "stream"');
        const port = must('corestrict', await corestrict(k, obj, CoportRight.SEND));
        print(`[${tag}] producer[${ctx.pid}]: found "stream"; sending ${count} messages through a send-only handle`);
        const buf = must('malloc', ctx.malloc(4 + maxPayload));
        const t: Tally = { messages: 0, bytes: 0, sum: 0x811c9dc5 };
        for (let i = 0; i < count; i++) {
          const body = payload(i, maxPayload);
          await sendFrame(k, ctx, port, buf, body);
          t.messages++;
          t.bytes += body.length;
          t.sum = fnv1a(body, t.sum);
        }
        await sendFrame(k, ctx, port, buf, new Uint8Array(0));
        sent = t;
        print(`[${tag}] producer[${ctx.pid}]: sent ${t.messages} messages, ${t.bytes} bytes, checksum ${hex(t.sum)}`);
      } catch (e) {
        fail('producer')(e);
      }
    },
  });

  await space.run();
  await options.beforeShutdown?.(space, kernel);
  await space.shutdown();
  const agree = !failed && sent !== undefined && received !== undefined && sent.messages === received.messages && sent.bytes === received.bytes && sent.sum === received.sum;
  print(`[${tag}] ${agree ? 'checksum OK' : 'MISMATCH'}`);
  return agree ? 0 : 1;
}
