/**
 * @comsg/abi — the microkernel's calling convention: the 256-byte argument block, the op
 * registry, op declarations, dispatch pools (server) and stubs (client).
 */
export { ARGS_SIZE, NAME_FIELD, NAME_MAX, OFF_ERROR, OFF_NAME, OFF_OP, OFF_STATUS, Reg, readHeader, readSlot, writeHeader, writeSlot, type BlockHeader, type Slot } from './block.js';
export { CapabilityC, Int32C, NAME_PATTERN, NameC, OptionalCapC, TaggedCapC, codeOf, type Name, type NameBrand } from './codecs.js';
export { UNIVERSAL_ERRORS, defineOp, type AnyOpDecl, type ArgsOf, type DaemonName, type ErrorsOf, type OpDecl, type ResultOf, type UniversalError } from './define.js';
export { N_UKERN_CALLS, Op, opName, type OpName } from './ops.js';
export { bind, makeDispatch, startPool, type CallContext, type OpBinding, type OpHandler, type PoolOptions, type PoolStats, type WorkerPool } from './server.js';
export { decodeReply, prepare, ukernCall, type CallError, type CallOptions, type TransportError } from './client.js';
export { cocall, type CocallOptions } from './cocall.js';
export { describeDecodeErrors } from './errors.js';
export { describeCall, describeValues, renderOpTable } from './docs.js';
export { GENERATION_LIMIT, SLOT_LIMIT, SlotTable } from './slots.js';
export { MINT_SPACE_BYTES, TOKEN_SPACE_BYTES, TokenMint, type OpenedToken } from './token-mint.js';
export { startService, startWorkers, type RunningService, type ServiceOptions, type WorkerSet } from './service.js';
export {
  CAPV_ANSWERBACK_MAX,
  CAPV_ANSWERBACK_OP,
  CAPV_ANSWERBACK_SIZE,
  CAPV_HEADER_SIZE,
  readAnswerback,
  readCapvHeader,
  writeAnswerback,
  writeCapvHeader,
  type CapvHeader,
} from './capv-packet.js';
