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
export { GRANULE, TaggedMemory, type TaggedMemoryBuffers, type StoredCapabilityBits } from './tagged-memory.js';
export { TypeManager, type OtypesExhausted } from './type-manager.js';
export { CapMachine, type BootedMachine, type MachineOptions } from './machine.js';
