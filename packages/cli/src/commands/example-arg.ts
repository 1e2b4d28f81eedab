/** The `[example]` argument several commands take, and running the example for inspection. */
import * as E from 'fp-ts/lib/Either.js';
import { EXAMPLES, findExample, type Example } from '../examples.js';
import { inspectExample, type Inspection } from '../inspect.js';
import { Exit, type Io } from '../io.js';
import type { OptionSpec } from '../command.js';
import type { RuntimeKind } from '@comsg/libcoproc';

export const EXAMPLE_NAMES = EXAMPLES.map((e) => e.name).join('|');

export function exampleArg(positional: string | undefined, fallback: string): E.Either<string, Example> {
  const name = positional ?? fallback;
  const ex = findExample(name);
  return ex === undefined ? E.left(`unknown example "${name}" (one of: ${EXAMPLE_NAMES.replaceAll('|', ', ')})`) : E.right(ex);
}

/** `--runtime inline|threads`, taken by the commands that run an example. */
export const RUNTIME_OPTION: OptionSpec = { runtime: { type: 'string', default: 'inline' } };

/** The `--runtime` value, or the usage exit status after saying what is wrong with it. */
export function runtimeArg(cmd: string, runtime: unknown, io: Io): RuntimeKind | number {
  if (runtime === 'inline' || runtime === 'threads') return runtime;
  io.err(`comsg ${cmd}: --runtime must be inline or threads, not ${String(runtime)}`);
  return Exit.USAGE;
}

/** Exit.UNAVAILABLE (said on stderr) when `ex` cannot run on `runtime`; undefined when it can. */
export function unavailableOn(cmd: string, ex: Example, runtime: RuntimeKind, io: Io): number | undefined {
  if (ex.runtimes.includes(runtime)) return undefined;
  io.err(`comsg ${cmd}: ${ex.name} runs on the inline runtime only (its programs are closures); the coport examples run under --runtime threads`);
  return Exit.UNAVAILABLE;
}

/** Shared by ps, capv, ns and quota: run the example, report its failure, else hand back the snapshot. */
export async function inspected(cmd: string, positional: string | undefined, io: Io, answerbacks: boolean, runtimeValue: unknown = 'inline'): Promise<Inspection | number> {
  const runtime = runtimeArg(cmd, runtimeValue, io);
  if (typeof runtime === 'number') return runtime;
  const ex = exampleArg(positional, runtime === 'threads' ? 'cochannel' : 'named-service');
  if (E.isLeft(ex)) return io.err(`comsg ${cmd}: ${ex.left}`), Exit.USAGE;
  const unavailable = unavailableOn(cmd, ex.right, runtime, io);
  if (unavailable !== undefined) return unavailable;
  const r = await inspectExample(ex.right, { answerbacks, runtime });
  if (r.code !== 0) {
    for (const l of r.output) io.err(l);
    io.err(`comsg ${cmd}: example ${r.example} failed (status ${r.code})`);
    return Exit.FAILED;
  }
  return r;
}
