/**
 * The tracing interposer behind `comsg cotrace`: a switcher tracer that sees every cocall in
 * an address space and decodes it — microkernel argument blocks by their op declarations
 * (name, arguments, results or errno), capv packets by their header, anything else by size.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  ARGS_SIZE,
  CAPV_ANSWERBACK_OP,
  CAPV_HEADER_SIZE,
  decodeReply,
  describeValues,
  readAnswerback,
  readHeader as readBlockHeader,
  readCapvHeader,
  readSlot,
  type AnyOpDecl,
} from '@comsg/abi';
import { type AddressSpaceApi, type Capability, type CapMachine, type CocallTraceEnter, type CocallTracer, type SysError } from '@comsg/capmachine';
import { opDecl } from '@comsg/libcomsg';

export interface TraceRecord {
  readonly seq: number;
  readonly phase: 'enter' | 'exit';
  /** Nesting: a cocall made by a thread while it serves another call. */
  readonly depth: number;
  readonly slow: boolean;
  readonly caller: { readonly pid: number; readonly tid: number; readonly name: string };
  readonly callee: { readonly pid: number; readonly tid: number; readonly name: string } | undefined;
  /** What was asked, decoded ("COSELECT(name=…)", "capv op 0 (answerback)", "16 bytes"). */
  readonly call: string;
  /** On exit: the decoded reply, or the error. */
  readonly reply?: string;
  readonly error?: string;
  readonly bytes: number;
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function argsOf(m: CapMachine, buf: Capability, decl: AnyOpDecl): string {
  const raw: Record<string, unknown> = {};
  for (const [k, slot] of Object.entries(decl.argSlots)) raw[k] = readSlot(m, buf, slot as never);
  const typed = decl.args.decode(raw);
  return `${decl.name}(${describeValues(E.isRight(typed) ? (typed.right as Record<string, unknown>) : raw)})${E.isRight(typed) ? '' : ' [does not decode]'}`;
}

/** The op declaration of a microkernel block, if `buf` holds one. */
function blockDecl(m: CapMachine, buf: Capability, len: number): AnyOpDecl | undefined {
  if (len < ARGS_SIZE) return undefined;
  const h = safe(() => readBlockHeader(m, buf));
  return h === undefined ? undefined : opDecl(h.op);
}

export function decodeCall(m: CapMachine, buf: Capability, len: number): string {
  const decl = blockDecl(m, buf, len);
  if (decl !== undefined) return safe(() => argsOf(m, buf, decl)) ?? `${decl.name}(…)`;
  if (len >= CAPV_HEADER_SIZE) {
    // A capv packet states its own size: `len` equals the bytes sent.
    const h = safe(() => readCapvHeader(m, buf));
    if (h !== undefined && h.len === len) return h.op === CAPV_ANSWERBACK_OP ? 'capv answerback?' : `capv op ${h.op} (len ${h.len})`;
  }
  return `${len} bytes`;
}

export function decodeReplyText(m: CapMachine, call: CocallTraceEnter, received: number): { reply?: string; error?: string } {
  const decl = blockDecl(m, call.outbuf, call.outlen);
  if (decl !== undefined && call.inlen >= ARGS_SIZE) {
    const r = safe(() => decodeReply(m, call.inbuf, decl, received));
    if (r === undefined) return { reply: `${received} bytes` };
    return E.isRight(r) ? { reply: `{${describeValues(r.right as Record<string, unknown>)}}` } : { error: r.left._tag };
  }
  if (received >= CAPV_HEADER_SIZE) {
    const h = safe(() => readCapvHeader(m, call.inbuf));
    const capv = h !== undefined && h.len >= CAPV_HEADER_SIZE && h.len <= received;
    if (capv && h.op === CAPV_ANSWERBACK_OP) {
      const text = safe(() => readAnswerback(m, call.inbuf, received));
      if (text !== undefined) return { reply: JSON.stringify(text) };
    }
    if (capv) return { reply: `capv op ${h.op} (len ${h.len})` };
  }
  return { reply: `${received} bytes` };
}

/**
 * A tracer for `space` that hands each decoded enter/exit to `sink`. A call is nested when its
 * caller thread is the callee of a call still open (on either runtime: inline the callee runs
 * on the caller's stack, on threads on its own worker).
 */
export function traceSpace(space: AddressSpaceApi, sink: (r: TraceRecord) => void, onLost?: (count: number) => void): CocallTracer {
  const names = new Map<number, string>();
  const nameOf = (pid: number): string => {
    let n = names.get(pid);
    if (n === undefined) {
      n = space.processes().find((p) => p.pid === pid)?.name ?? '?';
      names.set(pid, n);
    }
    return n;
  };
  const threadKey = (t: { pid: number; tid: number }): string => `${t.pid}/${t.tid}`;
  /** Depth of the call each thread is serving now (a stack: a thread serves one call at a time, nested ones inline). */
  const serving = new Map<string, number[]>();
  const base = (c: CocallTraceEnter) => ({
    seq: c.seq,
    slow: c.slow,
    caller: { ...c.caller, name: nameOf(c.caller.pid) },
    callee: c.callee === undefined ? undefined : { pid: c.callee.pid, tid: c.callee.tid, name: c.callee.name ?? nameOf(c.callee.pid) },
    call: decodeCall(space.machine, c.outbuf, c.outlen),
  });
  const open = new Map<number, { readonly b: ReturnType<typeof base>; readonly depth: number }>();
  return {
    enter(c) {
      const b = base(c);
      const depth = (serving.get(threadKey(c.caller))?.at(-1) ?? -1) + 1;
      open.set(c.seq, { b, depth });
      if (c.callee !== undefined) {
        const k = threadKey(c.callee);
        const stack = serving.get(k);
        if (stack === undefined) serving.set(k, [depth]);
        else stack.push(depth);
      }
      sink({ ...b, phase: 'enter', depth, bytes: c.outlen });
    },
    exit(c, result: E.Either<SysError, number>) {
      const { b, depth } = open.get(c.seq) ?? { b: base(c), depth: 0 };
      open.delete(c.seq);
      if (c.callee !== undefined) {
        const k = threadKey(c.callee);
        // A thread serves one call at a time (nested ones finish first): its exits come in order.
        const stack = serving.get(k);
        stack?.pop();
        if (stack?.length === 0) serving.delete(k);
      }
      if (E.isLeft(result)) sink({ ...b, phase: 'exit', depth, bytes: 0, error: result.left._tag });
      else sink({ ...b, phase: 'exit', depth, bytes: result.right, ...decodeReplyText(space.machine, c, result.right) });
    },
    ...(onLost === undefined ? {} : { lost: onLost }),
  };
}

/** One line per record, CheriBSD cotrace style. */
export function formatTrace(r: TraceRecord): string {
  const who = (p: { pid: number; name: string }) => `${p.name}[${p.pid}]`;
  const pad = '  '.repeat(r.depth);
  const to = r.callee === undefined ? '?' : who(r.callee);
  const path = r.slow ? 'cocall_slow' : 'cocall';
  if (r.phase === 'enter') return `cotrace: ${pad}#${r.seq} ${who(r.caller)} -> ${to} ${path} ${r.call}`;
  return `cotrace: ${pad}#${r.seq} ${who(r.caller)} <- ${to} ${r.error !== undefined ? `error ${r.error}` : `${r.bytes} bytes ${r.reply ?? ''}`.trimEnd()}`;
}

