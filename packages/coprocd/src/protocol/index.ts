/** @comsg/coprocd/protocol — coprocd, coserviced and coeventd op declarations. */
export { CoserviceFlag, COSERVICE_MAX_WORKERS, codiscover, codiscover2, coprovide, coprovide2 } from './coservices.js';
export { CALLBACK_ARGS_MAX, CallbackFlag, CoeventType, ccbInstall, ccbRegister, colisten } from './events.js';
export { Daemon, DaemonC, bootReport, coprocInit, type DaemonName } from './coprocd.js';
