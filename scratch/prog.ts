import * as E from 'fp-ts/lib/Either.js';
import type { CoProcessContext } from '@comsg/libcoproc';
import { coprocInit, cocreate, openCoport, cosend, corecv } from '@comsg/libcomsg';
export async function main(ctx: CoProcessContext): Promise<number> {
  const k = await coprocInit(ctx);
  if (E.isLeft(k)) { ctx.print('init ' + k.left._tag + ' ' + k.left.message); return 1; }
  const ns = await cocreate(k.right, 'demo', 'APPLICATION', k.right.root);
  ctx.print('cocreate ' + (E.isLeft(ns) ? ns.left._tag : 'ok'));
  for (const type of ['COCHANNEL', 'COPIPE', 'COCARRIER'] as const) {
    const p = await openCoport(k.right, type);
    if (E.isLeft(p)) { ctx.print('open ' + p.left._tag + ' ' + p.left.message); continue; }
    const buf = E.getOrElseW(() => { throw new Error('m'); })(ctx.malloc(64));
    ctx.machine.store(buf, 0, Uint8Array.of(1, 2, 3));
    if (type === 'COPIPE') { ctx.print(type + ' opened'); continue; }
    const s = await cosend(k.right, p.right, buf, 3, { timeoutMs: 1000 });
    ctx.print(type + ' send ' + (E.isLeft(s) ? s.left._tag + s.left.message : s.right));
    const r = await corecv(k.right, p.right, buf, 64, { timeoutMs: 1000 });
    ctx.print(type + ' recv ' + (E.isLeft(r) ? r.left._tag + r.left.message : JSON.stringify(r.right)));
  }
  return 0;
}
