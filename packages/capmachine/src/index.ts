/**
 * @comsg/capmachine — a CHERI-faithful capability machine.
 *
 * CC128 capabilities (bit-exact with the Sail model), tagged memory over SharedArrayBuffer,
 * every capability instruction with CHERI's monotonicity and fault causes, sealing and
 * otypes, sentries and CInvoke.
 */
export { Capability, NULL_CAP, nullWithAddress, type CapabilityFields } from './capability.js';
export * as cc128 from './cc128.js';
export { CapCause, CapabilityFault, causeName, isCapabilityFault, type CapCauseCode, type CapCauseName, type CapOperand } from './fault.js';
export { Otype, isReservedOtype, otypeSigned } from './otype.js';
export { Perm, PermSet, PERMS_ALL, PERMS_HW_MASK, PERMS_SW_MASK, permNames, type PermName } from './perms.js';
export type { IsaMode } from './isa-mode.js';
export { type SetBoundsResult } from './derive.js';
export { isDerivable } from './build-cap.js';
export { type InvokedPair } from './invoke.js';
export { GRANULE, TAG_BLOCK_GRANULES, TaggedMemory, type TaggedMemoryBuffers, type StoredCapabilityBits } from './tagged-memory.js';
export { RevocationMap } from './revocation.js';
export { Quarantine } from './quarantine.js';
export { TypeManager, type OtypesExhausted } from './type-manager.js';
export { CapMachine, type BootedMachine, type EntryCode, type MachineOptions } from './machine.js';
export { WordWindow, type RobustWord } from './word-window.js';
export { ByteWindow } from './byte-window.js';
export { ROBUST_SLOTS, ownedBy, ownerOf, stateOf } from './robust-word.js';
export { Errno, errnoName, sysError, type ErrnoName, type SysError } from './errno.js';
export { Scheduler, Task, WaitQueue, type SchedulerOptions, type WakeReason } from './scheduler.js';
export { RegionAllocator, regionShape, type Region } from './allocator.js';
export {
  COSETUP_COACCEPT,
  COSETUP_COCALL,
  COREGISTER_NAME_MAX,
  Switcher,
  type AcceptBuffers,
  type CoacceptHandler,
  type CoacceptLoop,
  type CocallTraceEnter,
  type CocallTracer,
  type CosetupWhat,
  type IncomingCall,
  type SwitcherPair,
  type SwitcherStats,
} from './switcher.js';
export {
  AddressSpace,
  CoProcessContext,
  CoThread,
  type AddressSpaceOptions,
  type CoProcessHandle,
  type CoProcessInfo,
  type ExitStatus,
  type Program,
} from './address-space.js';
export {
  loadProgram,
  type AcceptSession,
  type AddressSpaceApi,
  type CodeFactory,
  type CodeModule,
  type WaitpidOptions,
  type CoProcessApi,
  type CoThreadApi,
  type ProgramModule,
  type RuntimeKind,
  type SpawnOptions,
} from './runtime-api.js';
export { ThreadedAddressSpace, type ThreadedOptions } from './threads/kernel.js';
export { HostAuthority } from './host-authority.js';
export { createAddressSpace, type CreateOptions } from './create.js';
