import type * as t from 'io-ts';

/** A readable one-line summary of io-ts decode errors (key path and what was expected). */
export function describeDecodeErrors(errors: t.Errors): string {
  return errors
    .map((e) => {
      const path = e.context.map((c) => c.key).filter((k) => k !== '').join('.');
      const expected = e.context[e.context.length - 1]?.type.name ?? '?';
      return `${path || '(root)'}: expected ${expected}${e.message === undefined ? '' : ` (${e.message})`}`;
    })
    .join('; ');
}
