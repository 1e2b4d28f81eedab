/**
 * docs/OPS.md is generated from the op declarations (`npm run docs:ops`); a test checks it
 * is current, so the table can never drift from the code.
 */
import { writeFileSync } from 'node:fs';
import { renderOpTable, type AnyOpDecl } from '@comsg/abi';
import { nsdOps } from '@comsg/namespaced/protocol';
import { ipcdOps } from '@comsg/ipcd/protocol';
import { bootReport, ccbInstall, ccbRegister, codiscover, codiscover2, colisten, coprocInit, coprovide, coprovide2 } from '@comsg/coprocd/protocol';

export const ALL_OPS: readonly AnyOpDecl[] = [...nsdOps, coprovide, coprovide2, codiscover, codiscover2, colisten, ccbRegister, ccbInstall, coprocInit, bootReport, ...ipcdOps];

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
