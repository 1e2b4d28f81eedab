/**
 * Death events: `colisten` gets a handle to one's own death event (to give to others),
 * `ccbRegister` turns a target into a callback function, `ccbInstall` attaches it (with up
 * to 240 argument bytes, copied at install time) to an event. Callbacks fire in order.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Capability } from '@comsg/capmachine';
import type { UkernThread } from '@comsg/libcoproc';
import { CallbackFlag, CoeventType, ccbInstall as ccbInstallOp, ccbRegister as ccbRegisterOp, colisten as colistenOp } from '@comsg/coprocd/protocol';
import type { ComsgError } from './namespaces.js';

export async function colisten(k: UkernThread): Promise<E.Either<ComsgError, Capability>> {
  const r = await k.call(colistenOp, { event: CoeventType.PROCESS_DEATH, pid: k.session.ctx.pid });
  return E.map((v: { coevent: Capability }) => v.coevent)(r);
}

export async function ccbRegister(k: UkernThread, target: Capability, options: { slow?: boolean } = {}): Promise<E.Either<ComsgError, Capability>> {
  const r = await k.call(ccbRegisterOp, { target, flags: options.slow === true ? CallbackFlag.SLOCALL : CallbackFlag.NONE });
  return E.map((v: { func: Capability }) => v.func)(r);
}

export async function ccbInstall(k: UkernThread, func: Capability, coevent: Capability, args?: { buffer: Capability; length: number }): Promise<E.Either<ComsgError, number>> {
  const r = await k.call(ccbInstallOp, { func, coevent, args: args?.buffer, len: args?.length ?? 0 });
  return E.map((v: { position: number }) => v.position)(r);
}
