/**
 * What a tool may ask of an example (the `comsg` CLI uses these): where lines go, and a look at
 * each address space the example creates — right after creation (to attach a tracer) and once
 * its programs are done, before it shuts down (to list processes, capv and namespaces).
 */
import type { AddressSpaceApi, Microkernel, RuntimeKind } from '@comsg/libcoproc';

export interface ExampleHooks {
  readonly print?: (line: string) => void;
  /** Examples that run under either runtime honour it (default inline). */
  readonly runtime?: RuntimeKind;
  readonly onSpace?: (space: AddressSpaceApi) => void;
  readonly beforeShutdown?: (space: AddressSpaceApi, kernel: Microkernel | undefined) => Promise<void>;
}

/** Accepts the older `(print)` form too. */
export function hooksOf(arg: ExampleHooks | ((line: string) => void) | undefined): ExampleHooks {
  return typeof arg === 'function' ? { print: arg } : (arg ?? {});
}
