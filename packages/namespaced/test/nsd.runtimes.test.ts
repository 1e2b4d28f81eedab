/**
 * The namespace semantics on both runtimes: the same random command programs (fast-check,
 * three-handle chains, every op and error) are replayed through cocalls into nsd running as
 * a program — on the threads runtime, nsd and the client each on their own worker — and
 * every outcome must match the reference model. One nsd per program, so each starts fresh.
 */
import test from 'ava';
import { fc } from '@fast-check/ava';
import { TOKEN_SPACE_BYTES } from '@comsg/abi';
import { ThreadedAddressSpace, createAddressSpace, type Capability, type RuntimeKind } from '@comsg/capmachine';
import { LIMITS, arbCmd, modelTags, type Cmd } from './_model.js';
import { blockBytes } from './programs/replay.js';

const programs = new URL('./programs/replay.ts', import.meta.url).href;

/** Replays `cmds` (one program per nsd) on `runtime`; returns each program's outcome tags. */
async function replay(runtime: RuntimeKind, cmds: readonly Cmd[][]): Promise<{ tags: string[][]; lines: string[]; code: number | undefined; error: unknown }> {
  const lines: string[] = [];
  const space = createAddressSpace({ runtime, stdout: (l) => lines.push(l) });
  try {
    const block = space.allocateShared(blockBytes(cmds.length));
    const keys: Capability[] = cmds.flatMap(() => [space.mintTypes(16), space.mintTokenSpace(TOKEN_SPACE_BYTES), space.mintTokenSpace(TOKEN_SPACE_BYTES)]);
    space.spawn({ module: programs, export: 'nsdHost', name: 'nsd' }, { argv: ['nsd', JSON.stringify(LIMITS)], capv: [...keys, block] });
    const client = space.spawn({ module: programs, export: 'replayer', name: 'replayer' }, { argv: ['replayer', JSON.stringify(cmds)], capv: [block] });
    const status = await client.exited;
    const tags: string[][] = [];
    for (const l of lines) {
      const r = JSON.parse(l) as { program?: number; tags?: string[] };
      if (r.program !== undefined && r.tags !== undefined) tags[r.program] = r.tags;
    }
    return { tags, lines, code: status.code, error: status.error };
  } finally {
    await space.shutdown();
    if (space instanceof ThreadedAddressSpace && space.liveWorkers !== 0) throw new Error('a worker survived shutdown');
  }
}

const SEED = 5;
const fixed = fc.sample(fc.array(arbCmd, { minLength: 30, maxLength: 60 }), { seed: SEED, numRuns: 5 });
const freshSeed = Date.now() % 2 ** 31;
const fresh = fc.sample(fc.array(arbCmd, { minLength: 30, maxLength: 60 }), { seed: freshSeed, numRuns: 2 });

for (const runtime of ['inline', 'threads'] as const) {
  test(`[${runtime}] random namespace programs replayed through nsd match the model (a fixed seed, then a fresh one)`, async (t) => {
    const cmds = [...fixed, ...fresh];
    const r = await replay(runtime, cmds);
    t.is(r.code, 0, `${String(r.error)}\n${r.lines.join('\n')}`);
    const outcomes = new Set<string>();
    for (const [i, program] of cmds.entries()) {
      const expected = modelTags(program);
      t.deepEqual(r.tags[i], expected, `program ${i} (seed ${i < fixed.length ? SEED : freshSeed}): ${JSON.stringify(program)}`);
      if (i < fixed.length) program.forEach((c, k) => outcomes.add(`${c.op}:${expected[k]}`));
    }
    // The fixed programs reach successes and errors of every op, so agreement means something.
    for (const op of ['cocreate', 'codrop', 'coinsert', 'coselect', 'coupdate', 'codelete']) {
      t.true([...outcomes].some((o) => o === `${op}:ok`), `no ${op} succeeded`);
      t.true([...outcomes].some((o) => o.startsWith(`${op}:E`)), `no ${op} failed`);
    }
  });
}
