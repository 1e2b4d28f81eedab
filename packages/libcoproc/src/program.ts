/**
 * Programs as modules: a module that exports `main(ctx)` (and optionally `name`) is a
 * Program. `loadProgram` imports one by specifier or URL and checks its shape, so a bad
 * module is an error value, not a crash at spawn time.
 */
import * as E from 'fp-ts/lib/Either.js';
import { sysError, type Program, type SysError } from '@comsg/capmachine';

export async function loadProgram(specifier: string | URL): Promise<E.Either<SysError, Program>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(String(specifier))) as Record<string, unknown>;
  } catch (e) {
    return E.left(sysError('ENOENT', 'loadProgram', `cannot load ${String(specifier)}: ${e instanceof Error ? e.message : String(e)}`));
  }
  const main = mod.main ?? (mod.default as Record<string, unknown> | undefined)?.main;
  if (typeof main !== 'function') return E.left(sysError('ENOEXEC', 'loadProgram', `${String(specifier)} exports no main(ctx)`));
  const name = typeof mod.name === 'string' ? mod.name : String(specifier).split('/').pop()?.replace(/\.[cm]?[jt]s$/, '');
  return E.right({ ...(name === undefined ? {} : { name }), main: main as Program['main'] });
}
