/** Derived views of the op declarations: the docs table and a trace printer. */
import type { Capability } from '@comsg/capmachine';
import type { AnyOpDecl } from './define.js';
import { opName } from './ops.js';

/** Markdown table of ops: number, name, daemon, path, arguments, results, errors. */
export function renderOpTable(decls: readonly AnyOpDecl[]): string {
  const rows = [...decls].sort((a, b) => a.op - b.op).map((d) => {
    const args = Object.keys(d.argSlots).join(', ') || '—';
    const result = Object.keys(d.resultSlots).join(', ') || '—';
    return `| ${d.op} | \`${d.name}\` | ${d.daemon} | ${d.slow ? 'slow' : 'fast'} | ${args} | ${result} | ${d.errors.join(', ') || '—'} | ${d.summary} |`;
  });
  return ['| # | op | daemon | path | arguments | results | errors (+ EINVAL, ENOSYS, EDEFECT) | what it does |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

function show(v: unknown): string {
  if (typeof v === 'object' && v !== null && 'tag' in v && 'address' in v) {
    const c = v as Capability;
    return c.tag ? `cap(0x${c.address.toString(16)}${c.sealed ? `, otype 0x${c.otype.toString(16)}` : ''})` : 'NULL';
  }
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** `name="x", type=COPORT` for a decoded record (arguments or results), for tracers. */
export function describeValues(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(', ');
}

/** "COINSERT(name="x", type=COPORT, …)" for a decoded argument record, for cotrace. */
export function describeCall(op: number, args: Record<string, unknown> | undefined): string {
  const name = opName(op) ?? `op${op}`;
  if (args === undefined) return `${name}(…)`;
  return `${name}(${describeValues(args)})`;
}
