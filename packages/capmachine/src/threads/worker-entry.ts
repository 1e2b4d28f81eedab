/**
 * Entry point of every threads-runtime worker: attach to the address space, load the program
 * module, run it, and report how it ended. A fault ends the co-process (as inline); the kernel
 * learns of it from the exit message or, if the worker dies without one, from its exit event.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CapabilityFault } from '../fault.js';
import { loadProgram } from '../runtime-api.js';
import type { WorkerBoot } from './protocol.js';
import { ThreadCoProcessContext, ThreadCoThread, ThreadExit, WorkerHost } from './worker-host.js';

const boot = workerData as WorkerBoot;
const port = parentPort!;
const host = new WorkerHost(boot, port);
const thread = new ThreadCoThread(host, host.switcher, boot.tid, boot.threadName);
const processMain = boot.kind === 'process';
let finished = false;

function finish(code: number, reason: 'returned' | 'exit' | 'fault', error?: unknown): never {
  if (!finished) {
    finished = true;
    thread.exited();
    host.releaseSpinners();
    const msg = error instanceof Error ? `${error.name}: ${error.message}` : error === undefined ? undefined : String(error);
    host.link.call(boot.tid, { op: 'exit', code, reason, process: processMain || reason !== 'returned', ...(msg === undefined ? {} : { error: msg }) });
  }
  process.exit(code);
}

/** A thread ended by throwing: exit() unwinds the co-process, anything else is a fault. */
function ended(e: unknown): never {
  if (e instanceof ThreadExit) return finish(e.code, 'exit');
  return finish(e instanceof CapabilityFault ? 128 + 34 : 1, 'fault', e);
}

const ctx = new ThreadCoProcessContext(host, thread, ended);

// No top-level await: the CJS build of this file must load too.
async function run(): Promise<never> {
  try {
    const entry = await loadProgram(boot.program);
    const r = await (processMain ? entry(ctx) : (entry as unknown as (t: ThreadCoThread) => unknown)(thread));
    return finish(typeof r === 'number' ? r : 0, 'returned');
  } catch (e) {
    return ended(e);
  }
}
void run();
