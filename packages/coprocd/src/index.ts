/**
 * @comsg/coprocd — the microkernel core. `bootMicrokernel(space)` starts coprocd, which
 * starts nsd, coserviced and coeventd, publishes their ops and registers COPROC_INIT.
 * `./protocol` holds the op declarations clients use.
 */
export { bootMicrokernel, type Microkernel, type MicrokernelEvents, type MicrokernelOptions, type MicrokernelView } from './coprocd/boot.js';
export { COPROC_INIT_NAME, CORE_DAEMONS, DAEMON_OPS, type CoreDaemon, type FailurePolicy, type MicrokernelEvent } from './coprocd/coprocd.js';
export { startCoserviced, type RunningCoserviced } from './coserviced/start.js';
export { startCoeventd, type RunningCoeventd } from './coeventd/start.js';
export type { FireReport } from './coeventd/state.js';
export { DAEMON_CAPV_NAMES } from './coprocd/daemons.js';
export { COPROCD_CAPV_NAMES } from './coprocd/modules.js';
