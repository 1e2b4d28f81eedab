/**
 * docs/OPS.md is generated from the op declarations (`npm run docs:ops`); a test checks it
 * is current, so the table can never drift from the code.
 */
import { writeFileSync } from 'node:fs';
import { renderOpTable } from '@comsg/abi';
import { ALL_OPS } from '@comsg/libcomsg';

export function renderOpsDoc(): string {
  return `# Microkernel ops

Generated from the op declarations by \`npm run docs:ops\` — do not edit by hand.

Every call is one 256-byte argument block \`{status, error, op, …}\` sent with a cocall and
answered in place: status −1 and an errno on failure. Besides the errors listed, every op
can return EINVAL (arguments that do not decode), ENOSYS (unknown op) and EDEFECT (a bug
inside the daemon, caught at its boundary).

${renderOpTable(ALL_OPS)}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/OPS.md', import.meta.url), renderOpsDoc());
  console.log('wrote docs/OPS.md');
}
