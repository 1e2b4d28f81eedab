/**
 * Client side of the ABI: encode an op's arguments into the caller's block, cocall the daemon
 * worker, and decode the reply — status −1 becomes a typed error value, a malformed reply
 * becomes EDEFECT. Nothing here throws for a bad argument or a bad daemon.
 */
import * as E from 'fp-ts/lib/Either.js';
import { errnoName, sysError, type Capability, type CapMachine, type CoThreadApi, type SysError } from '@comsg/capmachine';
import { ARGS_SIZE, OFF_ERROR, OFF_OP, OFF_STATUS, readSlot, writeSlot } from './block.js';
import { cocall } from './cocall.js';
import type { AnyOpDecl, ArgsOf, ErrorsOf, ResultOf, UniversalError } from './define.js';
import { describeDecodeErrors } from './errors.js';

/** Errors the transport itself can add (the daemon is gone, busy, or never answered). */
export type TransportError = 'ENOLINK' | 'EAGAIN' | 'ETIMEDOUT' | 'EDEADLK' | 'EFAULT' | 'EPROTOTYPE' | 'ESRCH';
export type CallError<D extends AnyOpDecl> = SysError<ErrorsOf<D> | UniversalError | TransportError>;

export interface CallOptions {
  readonly timeoutMs?: number;
}

export async function ukernCall<D extends AnyOpDecl>(
  thread: CoThreadApi,
  m: CapMachine,
  block: Capability,
  target: Capability,
  decl: D,
  args: ArgsOf<D>,
  options: CallOptions = {},
): Promise<E.Either<CallError<D>, ResultOf<D>>> {
  const prepared = prepare(m, block, decl, args);
  if (E.isLeft(prepared)) return prepared as E.Either<CallError<D>, never>;
  const n = await cocall(thread, target, block, ARGS_SIZE, block, ARGS_SIZE, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  if (E.isLeft(n)) return n as E.Either<CallError<D>, never>;
  return decodeReply(m, block, decl, n.right);
}

/** Write op and arguments into the block; a value the codec rejects is EINVAL, locally. */
export function prepare<D extends AnyOpDecl>(m: CapMachine, block: Capability, decl: D, args: ArgsOf<D>): E.Either<CallError<D>, void> {
  if (!decl.args.is(args)) {
    const why = decl.args.decode(args);
    const detail = E.isLeft(why) ? describeDecodeErrors(why.left) : 'arguments do not match';
    return E.left(sysError('EINVAL', decl.name, detail) as CallError<D>);
  }
  try {
    const raw = decl.args.encode(args) as Record<string, unknown>;
    for (const [field, slot] of Object.entries(decl.argSlots)) writeSlot(m, block, slot as never, raw[field]);
    m.storeI32(block, OFF_STATUS, 0);
    m.storeI32(block, OFF_ERROR, 0);
    m.storeI32(block, OFF_OP, decl.op);
    return E.right(undefined);
  } catch (e) {
    // The caller's own block refused the write (e.g. a local capability argument).
    return E.left(sysError('EFAULT', decl.name, e instanceof Error ? e.message : String(e)) as CallError<D>);
  }
}

export function decodeReply<D extends AnyOpDecl>(m: CapMachine, block: Capability, decl: D, received: number): E.Either<CallError<D>, ResultOf<D>> {
  if (received < 12) return E.left(sysError('EDEFECT', decl.name, `short reply (${received} bytes)`) as CallError<D>);
  const status = m.loadI32(block, OFF_STATUS);
  if (status === -1) {
    const errno = m.loadI32(block, OFF_ERROR);
    const name = errnoName(errno) ?? 'EDEFECT';
    return E.left(sysError(name, decl.name, `${decl.name} failed with ${name}`) as CallError<D>);
  }
  const raw: Record<string, unknown> = {};
  for (const [field, slot] of Object.entries(decl.resultSlots)) raw[field] = readSlot(m, block, slot as never);
  const r = decl.result.decode(raw);
  if (E.isLeft(r)) return E.left(sysError('EDEFECT', decl.name, `malformed reply: ${describeDecodeErrors(r.left)}`) as CallError<D>);
  return E.right(r.right as ResultOf<D>);
}
