/**
 * The sample programs the CLI can run, loaded from the repository's examples/ directory (they
 * are TypeScript sources, so this needs the tsx loader the `comsg` bin starts with).
 */
import type { AddressSpaceApi, Microkernel, RuntimeKind } from '@comsg/libcoproc';

/** The hooks every example accepts (examples/hooks.ts). */
export interface ExampleHooks {
  readonly print?: (line: string) => void;
  readonly runtime?: RuntimeKind;
  readonly onSpace?: (space: AddressSpaceApi) => void;
  readonly beforeShutdown?: (space: AddressSpaceApi, kernel: Microkernel | undefined) => Promise<void>;
}

export interface Example {
  readonly name: string;
  readonly summary: string;
  /** Boots the microkernel daemons (so `comsg ns` has something to show). */
  readonly microkernel: boolean;
  /** Runtimes it runs under (examples whose programs are closures are inline only). */
  readonly runtimes: readonly RuntimeKind[];
  run(hooks: ExampleHooks): Promise<number>;
}

const examplesDir = new URL('../../../examples/', import.meta.url);

type Runner = (hooks: ExampleHooks) => Promise<number>;

/** The examples are TypeScript in the repository: a build run without tsx (or sources) cannot load them. */
export class ExamplesUnavailable extends Error {}

async function importExample(path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(new URL(path, examplesDir).href)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new ExamplesUnavailable(`examples/${path} cannot be loaded here (${String(code)}); run comsg inside the repository after npm ci (npx comsg), which loads the sources with tsx`);
    }
    throw e;
  }
}

async function load(path: string, exportName: string): Promise<Runner> {
  const mod = await importExample(path);
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new TypeError(`examples/${path} has no ${exportName}()`);
  return fn as Runner;
}

const example = (name: string, summary: string, microkernel: boolean, path: string, exportName: string, runtimes: readonly RuntimeKind[] = ['inline']): Example => ({
  name,
  summary,
  microkernel,
  runtimes,
  run: async (hooks) => (await load(path, exportName))(hooks),
});

export const EXAMPLES: readonly Example[] = [
  example('named-service', 'a coservice published in a namespace, discovered and called by two clients', true, 'named-service/main.ts', 'runNamedServiceExample'),
  example('cochannel', 'producer/consumer over a COCHANNEL (byte ring in shared memory)', true, 'producer-consumer/cochannel.ts', 'runCochannel', ['inline', 'threads']),
  example('copipe', 'producer/consumer over a COPIPE (synchronous rendezvous)', true, 'producer-consumer/copipe.ts', 'runCopipe', ['inline', 'threads']),
  example('cocarrier', 'producer/consumer over a COCARRIER (messages copied by ipcd)', true, 'producer-consumer/cocarrier.ts', 'runCocarrier', ['inline', 'threads']),
  example('clocks', 'a clock service reached through capv, plain, under cotrace(1), and listed by capv(1)', false, 'clocks/main.ts', 'runClocksExample'),
];

export function findExample(name: string): Example | undefined {
  return EXAMPLES.find((e) => e.name === name);
}

/** examples/coping: runs under either runtime (it needs no daemons). */
export async function loadCoping(): Promise<
  (options: { runtime?: 'inline' | 'threads'; count?: number; slow?: boolean; targets?: readonly string[]; stdout?: (line: string) => void }) => Promise<number>
> {
  const mod = await importExample('coping/main.ts');
  if (typeof mod['runCoping'] !== 'function') throw new TypeError('examples/coping/main.ts has no runCoping()');
  return mod['runCoping'] as never;
}
