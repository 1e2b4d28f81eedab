import { readFileSync } from 'node:fs';
import test from 'ava';
import { ALL_OPS } from '@comsg/libcomsg';
import { renderOpsDoc } from '../scripts/ops-doc.js';

test('docs/OPS.md is generated from the op declarations and is current', (t) => {
  const onDisk = readFileSync(new URL('../docs/OPS.md', import.meta.url), 'utf8');
  t.is(onDisk, renderOpsDoc(), 'run `npm run docs:ops`');
  // Every declaration has a unique op number and a row.
  t.is(new Set(ALL_OPS.map((d) => d.op)).size, ALL_OPS.length);
  for (const d of ALL_OPS) t.true(onDisk.includes(`| \`${d.name}\` |`));
});
