/**
 * @comsg/libcomsg — the user API for the comsg microkernel: namespaces, coservices and
 * death events (coports arrive with ipcd). Every call takes the calling thread's session
 * (`coprocInit` from @comsg/libcoproc) and returns `Either<ComsgError, T>`.
 */
export { cocreate, codelete, codrop, coinsert, coselect, coupdate, type ComsgError, type Selected } from './namespaces.js';
export { ccbInstall, ccbRegister, colisten } from './events.js';
export { codiscover, coprovide, provideService, coprocInit, type UkernThread } from '@comsg/libcoproc';
export { NsType, ObjType, type NsTypeName, type ObjTypeName } from '@comsg/namespaced/protocol';
