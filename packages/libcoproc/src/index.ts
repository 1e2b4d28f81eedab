/**
 * @comsg/libcoproc — what a co-process program links against: the machine's types and
 * system interface (re-exported from capmachine so programs need no other import), libc's
 * cocall policy, capv conventions and answerbacks, a service helper, and cotrace.
 */
export {
  AddressSpace,
  Capability,
  CapabilityFault,
  CapCause,
  CapMachine,
  COSETUP_COACCEPT,
  COSETUP_COCALL,
  Errno,
  NULL_CAP,
  Perm,
  PermSet,
  errnoName,
  sysError,
  ThreadedAddressSpace,
  createAddressSpace,
  type AcceptBuffers,
  type AcceptSession,
  type AddressSpaceApi,
  type CoProcessApi,
  /** What a program's `main` receives, under either runtime. */
  type CoProcessApi as CoProcessContext,
  type CoThreadApi,
  /** One co-process thread's system calls, under either runtime. */
  type CoThreadApi as CoThread,
  type AddressSpaceOptions,
  type CoacceptHandler,
  type CoacceptLoop,
  type CocallTraceEnter,
  type CocallTracer,
  type CoProcessHandle,
  type CoProcessInfo,
  type ErrnoName,
  type ExitStatus,
  type IncomingCall,
  type Program,
  type ProgramModule,
  type RuntimeKind,
  type SwitcherPair,
  type SysError,
} from '@comsg/capmachine';
export { cocall, type CocallOptions } from '@comsg/abi';
export * from './capv.js';
export { startService, startWorkers, type RunningService, type ServiceOptions, type WorkerSet } from '@comsg/abi';
export { Tracer, cotrace, waitExit, type CotraceOptions, type TraceEnter, type TraceExit, type TracePreview } from './cotrace.js';
export { loadProgram } from './program.js';
export { Ukern, UkernThread, coprocInit, type CoprocInitOptions } from './ukern.js';
export { codiscover, coprovide, provideService, type ProvideOptions, type ProvidedService } from './coservice.js';
export { COPROCD_CAPV_NAMES, DAEMON_CAPV_NAMES, bootMicrokernel, type Microkernel, type MicrokernelEvent, type MicrokernelOptions, type MicrokernelView } from '@comsg/coprocd';
