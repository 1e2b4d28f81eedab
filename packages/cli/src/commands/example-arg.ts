/** The `[example]` argument several commands take. */
import * as E from 'fp-ts/lib/Either.js';
import { EXAMPLES, findExample, type Example } from '../examples.js';

export const EXAMPLE_NAMES = EXAMPLES.map((e) => e.name).join('|');

export function exampleArg(positional: string | undefined, fallback: string): E.Either<string, Example> {
  const name = positional ?? fallback;
  const ex = findExample(name);
  return ex === undefined ? E.left(`unknown example "${name}" (one of: ${EXAMPLE_NAMES.replaceAll('|', ', ')})`) : E.right(ex);
}
