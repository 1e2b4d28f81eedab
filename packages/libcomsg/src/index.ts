/**
 * @comsg/libcomsg — the user API for the comsg microkernel: coports, namespaces, coservices
 * and death events. Every call takes the calling thread's session
 * (`coprocInit` from @comsg/libcoproc) and returns `Either<ComsgError, T>`.
 */
export { cocreate, codelete, codrop, coinsert, coselect, coupdate, type ComsgError, type Selected } from './namespaces.js';
export { ccbInstall, ccbRegister, colisten } from './events.js';
export { codiscover, coprovide, provideService, coprocInit, type UkernThread } from '@comsg/libcoproc';
export { NsType, ObjType, type NsTypeName, type ObjTypeName } from '@comsg/namespaced/protocol';
export {
  coclose,
  cocloseNamed,
  copoll,
  coportInfo,
  coportMsgFree,
  corecv,
  corecvOob,
  corecvSync,
  cosend,
  cosendOob,
  cosendSync,
  corestrict,
  openCoport,
  openNamedCoport,
  CoportRight,
  PollEvent,
  type Attachment,
  type CarrierMessage,
  type CoportTypeName,
  type OpenOptions,
  type PollEntry,
  type PollResult,
  type PortInfo,
  type WaitOptions,
} from './coports.js';
export { ALL_OPS, opDecl } from './ops.js';
