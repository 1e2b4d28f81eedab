/**
 * clocks(1): clock_gettime(2) as a service. Starts serving, puts its target in capv slot
 * CAPV_CLOCKS, and runs `child` colocated with that vector — `clocks [-k] command`.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  CAPV_ANSWERBACK_OP,
  CAPV_CLOCKS,
  CAPV_HEADER_SIZE,
  Errno,
  readHeader,
  startService,
  waitExit,
  writeAnswerback,
  writeHeader,
  type CoProcessContext,
  type Program,
} from '@comsg/libcoproc';
import { CLOCKS_OP_BASE, CLOCKS_REPLY_OP, CLOCKS_REPLY_SIZE, CLOCK_MONOTONIC, CLOCK_REALTIME, OFF_ERRNO, OFF_ERROR, OFF_NSEC, OFF_SEC } from './protocol.js';

export interface ClocksOptions {
  /** Serve through the slow (kernel) path, like `clocks -k`. */
  readonly slow?: boolean;
}

export function clocks(child: Program, options: ClocksOptions = {}): Program {
  return {
    name: 'clocks',
    main: async (ctx: CoProcessContext) => {
      const m = ctx.machine;
      const svc = startService(
        ctx,
        (call) => {
          const { inbuf, outbuf } = call;
          const h = call.length >= CAPV_HEADER_SIZE ? readHeader(m, inbuf) : undefined;
          if (h !== undefined && h.op === CAPV_ANSWERBACK_OP) {
            return writeAnswerback(m, outbuf, `clocks(1), pid ${ctx.pid}, responding to clock_gettime()`);
          }
          writeHeader(m, outbuf, { len: CLOCKS_REPLY_SIZE, op: CLOCKS_REPLY_OP });
          m.store(outbuf, OFF_ERROR, new Uint8Array(CLOCKS_REPLY_SIZE - OFF_ERROR));
          if (h === undefined || h.len !== CAPV_HEADER_SIZE || call.length !== h.len) {
            writeHeader(m, outbuf, { len: CLOCKS_REPLY_SIZE, op: 0 });
            m.storeI32(outbuf, OFF_ERROR, -1);
            m.storeI32(outbuf, OFF_ERRNO, Errno.ENOMSG);
            return CLOCKS_REPLY_SIZE;
          }
          const clock = h.op - CLOCKS_OP_BASE;
          let ms: number;
          if (clock === CLOCK_REALTIME) ms = Date.now();
          else if (clock === CLOCK_MONOTONIC) ms = ctx.now();
          else {
            m.storeI32(outbuf, OFF_ERROR, -1);
            m.storeI32(outbuf, OFF_ERRNO, Errno.EINVAL);
            return CLOCKS_REPLY_SIZE;
          }
          m.storeU64(outbuf, OFF_SEC, BigInt(Math.floor(ms / 1000)));
          m.storeU64(outbuf, OFF_NSEC, BigInt(Math.round((ms % 1000) * 1e6)));
          return CLOCKS_REPLY_SIZE;
        },
        { bufferBytes: 1040 + 16, ...(options.slow === true ? { slow: true } : {}) },
      );
      if (E.isLeft(svc)) {
        ctx.print(`clocks: ${svc.left.message}`);
        return 1;
      }
      const capv = [...ctx.capv];
      while (capv.length <= CAPV_CLOCKS) capv.push(undefined);
      capv[CAPV_CLOCKS] = svc.right.target;
      const status = await waitExit(ctx, ctx.coexecvec(child, undefined, capv).exited);
      return status.code;
    },
  };
}
