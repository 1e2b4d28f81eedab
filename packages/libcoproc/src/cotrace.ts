/**
 * cotrace(1): an interposer. For every non-NULL capv slot it starts a proxy thread with its
 * own target, puts that target in the slot, and runs the traced program with the new capv.
 * Each call through a proxy is logged (typed `enter`/`exit` events) and forwarded to the real
 * service with a cocall; answerbacks get " -- via cotrace" appended, as CheriBSD's does.
 */
import { EventEmitter } from 'eventemitter3';
import * as E from 'fp-ts/lib/Either.js';
import type { Capability, CoProcessApi, ErrnoName, ExitStatus, Program } from '@comsg/capmachine';
import { CAPV_ANSWERBACK_OP, CAPV_HEADER_SIZE, readAnswerback, readHeader, writeAnswerback } from './capv.js';
import { startService } from '@comsg/abi';

/** What a call looked like, decoded as a capv packet where it parses as one. */
export interface TracePreview {
  /** The packet's `len` and `op` (capv convention), when at least 16 bytes came. */
  readonly len?: number;
  readonly op?: number;
  /** Up to the first 32 bytes, hex. */
  readonly hex: string;
  /** Set by a custom decoder (e.g. an op name and its arguments). */
  readonly decoded?: string;
}

export interface TraceEnter {
  readonly seq: number;
  /** The calling co-process. */
  readonly pid: number;
  readonly slot: number;
  /** The real service the call goes to. */
  readonly target: Capability;
  readonly outlen: number;
  readonly preview: TracePreview;
}

export interface TraceExit extends TraceEnter {
  /** Bytes of reply returned to the caller. */
  readonly received: number;
  readonly error?: ErrnoName;
  readonly reply: TracePreview;
}

export interface TracerEvents {
  enter: (e: TraceEnter) => void;
  exit: (e: TraceExit) => void;
}

/** Receives the trace; a decoder may add readable text for a protocol it knows. */
export class Tracer extends EventEmitter<TracerEvents> {
  constructor(readonly decode?: (bytes: Uint8Array, direction: 'call' | 'reply', slot: number) => string | undefined) {
    super();
  }
}

export interface CotraceOptions {
  readonly bufferBytes?: number;
  /** How long a proxy waits for the real service. */
  readonly timeoutMs?: number;
}

function preview(bytes: Uint8Array, n: number, tracer: Tracer, dir: 'call' | 'reply', slot: number): TracePreview {
  const head = bytes.subarray(0, Math.min(n, 32));
  const hex = [...head].map((b) => b.toString(16).padStart(2, '0')).join('');
  const base: { len?: number; op?: number; hex: string } = { hex };
  if (n >= CAPV_HEADER_SIZE) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    base.len = Number(v.getBigUint64(0, true));
    base.op = v.getInt32(8, true);
  }
  const decoded = tracer.decode?.(bytes.subarray(0, n), dir, slot);
  return decoded === undefined ? base : { ...base, decoded };
}

/**
 * A program that runs `child` under the interposer. Run it as a co-process (it needs a
 * context of its own, as cotrace(1) is its own process).
 */
export function cotrace(child: Program, tracer: Tracer, argv?: readonly string[], options: CotraceOptions = {}): Program {
  const bytes = options.bufferBytes ?? 4096;
  return {
    name: 'cotrace',
    main: async (ctx: CoProcessApi): Promise<number> => {
      const m = ctx.machine;
      const original = ctx.capv;
      const proxied: Array<Capability | undefined> = [...original];
      let seq = 0;
      for (const [slot, real] of original.entries()) {
        if (real === undefined) continue;
        let started: Capability | undefined;
        ctx.spawnThread(`proxy-${slot}`, async (thread) => {
          const scratch = new Uint8Array(bytes);
          const svc = startService(
            ctx,
            (call) => {
              const me = ++seq;
              const pid = E.getOrElse(() => -1)(thread.cogetpid(call.cookie));
              m.load(call.inbuf, 0, call.length, scratch);
              const enter: TraceEnter = { seq: me, pid, slot, target: real, outlen: call.length, preview: preview(scratch, call.length, tracer, 'call', slot) };
              tracer.emit('enter', enter);
              const isAnswerback = call.length >= CAPV_HEADER_SIZE && readHeader(m, call.inbuf).op === CAPV_ANSWERBACK_OP;
              // Forward synchronously: the real service runs on this same stack.
              let r = thread.cocall(real, call.inbuf, call.length, call.outbuf, call.outlen);
              if (E.isLeft(r) && r.left._tag === 'EPROTOTYPE') r = thread.cocallSlow(real, call.inbuf, call.length, call.outbuf, call.outlen);
              let received = E.isRight(r) ? r.right : 0;
              if (E.isRight(r) && isAnswerback && received >= CAPV_HEADER_SIZE) {
                const text = readAnswerback(m, call.outbuf, received);
                received = writeAnswerback(m, call.outbuf, `${text} -- via cotrace(1), pid ${ctx.pid}`);
              }
              m.load(call.outbuf, 0, Math.min(received, bytes), scratch);
              tracer.emit('exit', {
                ...enter,
                received,
                reply: preview(scratch, received, tracer, 'reply', slot),
                ...(E.isLeft(r) ? { error: r.left._tag } : {}),
              });
              return received;
            },
            { bufferBytes: bytes },
            thread,
          );
          if (E.isLeft(svc)) throw new Error(`cotrace: slot ${slot}: ${svc.left.message}`);
          started = svc.right.target;
          await svc.right.serve();
        });
        // The proxy thread registers on its first run; let it.
        while (started === undefined) await ctx.thread.yield();
        proxied[slot] = started;
      }
      const traced = ctx.coexecvec(child, argv, proxied);
      const status: ExitStatus = await waitExit(ctx, traced.exited);
      return status.code;
    },
  };
}

/** Wait for a child's exit from inside a co-process, parked in the scheduler. */
export async function waitExit(ctx: CoProcessApi, exited: Promise<ExitStatus>): Promise<ExitStatus> {
  let status: ExitStatus | undefined;
  void exited.then((s) => (status = s));
  await ctx.thread.park(exited);
  return status ?? (await exited);
}
