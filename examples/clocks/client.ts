/** A clock_gettime(2) client that reaches the clocks service through its capv. */
import * as E from 'fp-ts/lib/Either.js';
import { CAPV_CLOCKS, COSETUP_COCALL, answerback, cocall, writeHeader, type CoProcessContext, type Program } from '@comsg/libcoproc';
import { CLOCKS_OP_BASE, CLOCKS_REPLY_OP, CLOCKS_REPLY_SIZE, CLOCK_MONOTONIC, CLOCK_NAMES, CLOCK_REALTIME, OFF_ERROR, OFF_NSEC, OFF_SEC } from './protocol.js';

export const clockClient: Program = {
  name: 'clock-client',
  main: async (ctx: CoProcessContext) => {
    const m = ctx.machine;
    const target = ctx.capv[CAPV_CLOCKS];
    if (target === undefined) {
      ctx.print('clock-client: no clocks service in capv slot 8');
      return 1;
    }
    E.getOrElseW((e: { message: string }) => {
      throw new Error(e.message);
    })(ctx.thread.cosetup(COSETUP_COCALL));
    const buf = E.getOrElseW(() => {
      throw new Error('out of memory');
    })(ctx.malloc(1040));
    const who = await answerback(ctx.thread, m, target, buf);
    ctx.print(`clock-client: service says "${E.isRight(who) ? who.right : who.left._tag}"`);
    for (const clock of [CLOCK_MONOTONIC, CLOCK_REALTIME]) {
      writeHeader(m, buf, { len: 16, op: CLOCKS_OP_BASE + clock });
      const n = await cocall(ctx.thread, target, buf, 16, buf, CLOCKS_REPLY_SIZE);
      if (E.isLeft(n)) {
        ctx.print(`clock-client: ${CLOCK_NAMES[clock]}: ${n.left._tag}`);
        return 1;
      }
      const op = m.loadI32(buf, 8);
      const err = m.loadI32(buf, OFF_ERROR);
      const sec = m.loadU64(buf, OFF_SEC);
      const nsec = m.loadU64(buf, OFF_NSEC);
      const shown = clock === CLOCK_REALTIME ? new Date(Number(sec) * 1000).toISOString().slice(0, 4) + '-…' : `${sec}.${String(nsec).padStart(9, '0')} s`;
      ctx.print(`clock-client: ${CLOCK_NAMES[clock]} -> ${n.right} bytes, op ${op}, error ${err}, ${shown}${op === CLOCKS_REPLY_OP ? '' : ' (unexpected op)'}`);
    }
    return 0;
  },
};
