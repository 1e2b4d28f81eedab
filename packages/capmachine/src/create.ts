/**
 * One option picks the runtime: `inline` (default: every co-process on this JS thread,
 * deterministic) or `threads` (every co-process thread on its own worker_thread over the same
 * SharedArrayBuffers).
 */
import { AddressSpace, type AddressSpaceOptions } from './address-space.js';
import type { AddressSpaceApi, RuntimeKind } from './runtime-api.js';
import { ThreadedAddressSpace, type ThreadedOptions } from './threads/kernel.js';

export type CreateOptions = AddressSpaceOptions & ThreadedOptions & { readonly runtime?: RuntimeKind };

export function createAddressSpace(options: CreateOptions = {}): AddressSpaceApi {
  const { runtime = 'inline', ...rest } = options;
  return runtime === 'threads' ? ThreadedAddressSpace.create(rest) : AddressSpace.create(rest);
}
