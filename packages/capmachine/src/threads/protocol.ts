/**
 * The control plane between the kernel thread (main) and co-process workers: plain
 * postMessage, as node-ipc-anchors §6.1 recommends for everything off the cocall fast path.
 * A worker blocks on a synchronous RPC by waiting on its doorbell word; the kernel answers on
 * the worker's reply port and rings the bell.
 */
import type { MessagePort } from 'node:worker_threads';
import type { TaggedMemoryBuffers } from '../tagged-memory.js';
import type { IsaMode } from '../isa-mode.js';

/** Everything a worker needs to attach to the address space (structured-cloneable). */
export interface WorkerBoot {
  readonly kind: 'process' | 'thread';
  readonly program: { readonly module: string; readonly export: string };
  readonly buffers: TaggedMemoryBuffers;
  readonly mode: IsaMode;
  readonly runtimeWords: SharedArrayBuffer;
  readonly doorbell: SharedArrayBuffer;
  readonly replyPort: MessagePort;
  readonly slowPort: MessagePort;
  readonly pid: number;
  readonly tid: number;
  readonly name: string;
  readonly threadName: string;
  readonly argv: readonly string[];
  readonly scbBase: number;
  readonly capvBase: number;
  readonly capc: number;
  readonly kernel: { readonly base: number; readonly length: number };
  readonly entryBase: number;
  readonly pairOtype: number;
  readonly targetOtype: number;
  readonly stripTags: boolean;
  readonly callTimeoutMs: number;
}

export type ExitRequest = Extract<RpcRequest, { op: 'exit' }>;

export type RpcRequest =
  | { readonly op: 'coregister'; readonly name: string }
  | { readonly op: 'colookup'; readonly name: string }
  | { readonly op: 'grant'; readonly bytes: number }
  | { readonly op: 'cocall_slow'; readonly target: number }
  | { readonly op: 'spawn'; readonly module: string; readonly export: string; readonly name: string | undefined; readonly argv: readonly string[] | undefined; readonly capc: number }
  | { readonly op: 'spawn_thread'; readonly module: string; readonly export: string; readonly name: string }
  | { readonly op: 'waitpid'; readonly pid: number; readonly timeoutMs: number }
  /** Another thread of this process on the asking worker: its own SCB and tid. */
  | { readonly op: 'thread_new'; readonly name: string }
  | { readonly op: 'thread_exit'; readonly tid: number }
  /** Record loaded code so other workers can link it (CodeModule). */
  | { readonly op: 'code_register'; readonly textBase: number; readonly names: readonly string[]; readonly module: string; readonly export: string; readonly paramsBase: number; readonly paramsLength: number }
  | { readonly op: 'code_of'; readonly address: number }
  /** The last word of a worker: synchronous, so every message it posted before is handled first. */
  | { readonly op: 'exit'; readonly code: number; readonly reason: 'returned' | 'exit' | 'fault'; readonly error?: string; readonly process: boolean };

/** Worker → kernel, on the worker's parentPort. */
export type WorkerMessage =
  | { readonly t: 'rpc'; readonly id: number; readonly tid: number; readonly req: RpcRequest; readonly sync: boolean }
  /** A thread serving or parked does not keep `run()` going. */
  | { readonly t: 'parked'; readonly tid: number; readonly parked: boolean }
  | { readonly t: 'print'; readonly line: string }
  | { readonly t: 'capv'; readonly capc: number }
  | { readonly t: 'slow-reply'; readonly callee: number; readonly result: number };

export type RpcReply = { readonly id: number; readonly ok: unknown } | { readonly id: number; readonly err: { readonly name: string; readonly message: string } };

/** Kernel → callee, on its slow port: one cocall_slow request. */
export interface SlowRequest {
  readonly length: number;
  readonly caller: number;
  /** The callee's SCB: a worker may host several threads. */
  readonly callee: number;
}

/** What `code_of` answers. */
export interface LinkableCode {
  readonly textBase: number;
  /** Entry names in entry order (entry i is at textBase + 16·i). */
  readonly names: readonly string[];
  readonly module: string;
  readonly export: string;
  readonly paramsBase: number;
  readonly paramsLength: number;
}
