/**
 * The CInvoke ABI of a coport entry: what libcomsg passes when it CInvokes a type's entry with
 * a port handle, and what comes back. The code behind the entry is ipcd's and runs on the
 * caller's thread (comsg's libcomsg stubs, without a shared sealing root: only ipcd can seal
 * entries and handles). Non-blocking requests return an Either at once, and the entry reads
 * their request object only while it runs (libcomsg refills one per op rather than allocate one
 * per message); waiting requests return a Promise and always carry a timeout (negative = no
 * limit).
 */
import type * as E from 'fp-ts/lib/Either.js';
import type { Capability, CoThreadApi, SysError } from '@comsg/capmachine';

export interface PollRequestEntry {
  readonly port: Capability;
  /** Requested PollEvent bits. */
  readonly events: number;
}

export type EntryRequest =
  | { readonly op: 'send'; readonly buf: Capability; readonly len: number; readonly thread: CoThreadApi }
  | { readonly op: 'recv'; readonly buf: Capability; readonly len: number; readonly thread: CoThreadApi }
  | { readonly op: 'sendWait'; readonly buf: Capability; readonly len: number; readonly thread: CoThreadApi; readonly timeoutMs: number }
  | { readonly op: 'recvWait'; readonly buf: Capability; readonly len: number; readonly thread: CoThreadApi; readonly timeoutMs: number }
  | { readonly op: 'poll'; readonly entries: readonly PollRequestEntry[]; readonly thread: CoThreadApi; readonly timeoutMs: number }
  | { readonly op: 'restrict'; readonly rights: number }
  | { readonly op: 'info' };

export interface PortInfo {
  readonly type: 'COPIPE' | 'COCARRIER' | 'COCHANNEL';
  readonly rights: number;
  readonly closed: boolean;
  /** Current PollEvent bits. */
  readonly events: number;
  /** Bytes buffered (COCHANNEL) or messages queued (COCARRIER). */
  readonly length: number;
  readonly capacity: number;
}

/** What each request returns. */
export interface EntryResults {
  send: E.Either<SysError, number>;
  recv: E.Either<SysError, number>;
  sendWait: Promise<E.Either<SysError, number>>;
  recvWait: Promise<E.Either<SysError, number>>;
  /** The revents of each entry, in order. */
  poll: Promise<E.Either<SysError, number[]>>;
  restrict: E.Either<SysError, Capability>;
  info: E.Either<SysError, PortInfo>;
}
