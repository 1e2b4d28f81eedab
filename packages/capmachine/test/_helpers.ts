import { CapMachine, CapabilityFault, Perm, PermSet, type BootedMachine, type Capability, type IsaMode } from '../src/index.js';

export function hex(x: bigint): string {
  return `0x${x.toString(16)}`;
}

/** A booted machine with 64 KiB of memory and a data capability over [0x1000, 0x3000). */
export function setup(mode: IsaMode = 'v9', memoryBytes = 1 << 16, exclusive = false): BootedMachine & { data: Capability } {
  const booted = CapMachine.boot({ memoryBytes, mode, exclusive });
  const data = booted.machine.restrict(booted.roots.memory, 0x1000n, 0x2000n, PermSet.DATA);
  return { ...booted, data };
}

export const ALL_DATA_PERMS = [
  Perm.GLOBAL,
  Perm.LOAD,
  Perm.STORE,
  Perm.LOAD_CAP,
  Perm.STORE_CAP,
  Perm.STORE_LOCAL_CAP,
] as const;

/** The CHERI cause a call traps with, or undefined if it does not trap. */
export function causeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CapabilityFault) return e.code;
    throw e;
  }
  return undefined;
}
