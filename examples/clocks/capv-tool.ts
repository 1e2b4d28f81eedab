/** capv(1): list the inherited capability vector and ask each entry who it is. */
import * as E from 'fp-ts/lib/Either.js';
import { CAPV_SLOT_NAMES, COSETUP_COCALL, answerback, type CoProcessContext, type Program } from '@comsg/libcoproc';

export const capvTool: Program = {
  name: 'capv',
  main: async (ctx: CoProcessContext) => {
    E.getOrElseW(() => {
      throw new Error('cosetup failed');
    })(ctx.thread.cosetup(COSETUP_COCALL));
    const scratch = E.getOrElseW(() => {
      throw new Error('out of memory');
    })(ctx.malloc(1040));
    const capv = ctx.capv;
    ctx.print(`capv: ${capv.length} entries`);
    for (const [slot, cap] of capv.entries()) {
      if (cap === undefined) continue;
      const who = await answerback(ctx.thread, ctx.machine, cap, scratch);
      const name = CAPV_SLOT_NAMES[slot] ?? 'ad hoc';
      ctx.print(`  ${String(slot).padStart(2)} ${name.padEnd(16)} ${E.isRight(who) ? `"${who.right}"` : who.left._tag}`);
    }
    return 0;
  },
};
