import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMMANDS, Exit, runCli } from '../src/index.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}
/** The command's JSON output; when there is none, the failure names the exit code and stderr. */
function json(r: { code: number; out: string[]; err: string[] }): any {
  try {
    return JSON.parse(r.out.join('\n'));
  } catch {
    throw new Error(`no JSON on stdout (exit ${r.code}); stderr: ${r.err.join('\n') || '(empty)'}`);
  }
}

test('comsg with no command prints the overview and exits 2; --help exits 0 and lists every command', async (t) => {
  const none = await cli();
  t.is(none.code, Exit.USAGE);
  const help = await cli('--help');
  t.is(help.code, Exit.OK);
  for (const c of COMMANDS) t.true(help.out.some((l) => l.trimStart().startsWith(`${c.name} `)), c.name);
});

for (const c of COMMANDS) {
  test(`comsg ${c.name} --help prints its usage and exits 0`, async (t) => {
    const r = await cli(c.name, '--help');
    t.is(r.code, Exit.OK);
    t.is(r.out[0], `usage: ${c.usage}`);
    t.true(r.out.length > 3);
    t.deepEqual((await cli('help', c.name)).out, r.out);
  });
}

test('usage errors exit 2 with a message on stderr and nothing on stdout', async (t) => {
  for (const argv of [['frobnicate'], ['ps', '--frob'], ['ps', 'no-such-example'], ['ps', 'a', 'b'], ['coping', '-c', '0'], ['coping', '-c', 'x'], ['coping', 'bad/name'], ['coping', 'x', 'x'], ['demo', '--runtime', 'fibers'], ['cotrace']]) {
    const r = await cli(...argv);
    t.is(r.code, Exit.USAGE, argv.join(' '));
    t.deepEqual(r.out, [], argv.join(' '));
    t.true(r.err.length > 0 && r.err[0]!.startsWith('comsg'), argv.join(' '));
  }
});

test('comsg demo runs each coport demo to an agreeing checksum; --json carries the transcript', async (t) => {
  for (const ex of ['cochannel', 'copipe', 'cocarrier']) {
    const r = await cli('demo', ex, '--json');
    t.is(r.code, Exit.OK, ex);
    const doc = json(r);
    t.is(doc.example, ex);
    t.is(doc.code, 0);
    t.true(doc.output.includes(`[${ex}] checksum OK`));
  }
  const text = await cli('demo');
  t.is(text.code, Exit.OK);
  t.is(text.out.at(-1), '[cochannel] checksum OK');
});

test('comsg demo copipe --runtime threads: the microkernel and both programs on worker threads agree', async (t) => {
  const r = await cli('demo', 'copipe', '--runtime', 'threads', '--json');
  t.is(r.code, Exit.OK, r.err.join('\n'));
  const doc = json(r);
  t.is(doc.runtime, 'threads');
  t.true(doc.output.includes('[copipe] checksum OK'), doc.output.join('\n'));
});

test('comsg demo clocks --runtime threads: an inline-only example exits 69 with the reason', async (t) => {
  const r = await cli('demo', 'clocks', '--runtime', 'threads');
  t.is(r.code, Exit.UNAVAILABLE);
  t.regex(r.err.join('\n'), /inline runtime only/);
});

for (const runtime of ['inline', 'threads']) {
  test(`comsg coping --runtime ${runtime}: per-target round-trip times`, async (t) => {
    const r = await cli('coping', '-c', '3', '--runtime', runtime, '--json', 'alpha', 'beta');
    t.is(r.code, Exit.OK, r.err.join('\n'));
    const doc = json(r);
    t.is(doc.runtime, runtime);
    t.deepEqual(doc.targets.map((x: { target: string }) => x.target), ['alpha', 'beta']);
    for (const x of doc.targets) {
      t.is(x.rtts_us.length, 3);
      t.true(x.rtts_us.every((v: number) => Number.isFinite(v) && v >= 0));
    }
    // Each target is its own pong co-process.
    t.not(doc.targets[0].pid, doc.targets[1].pid);
  });
}

test('comsg coping (text): one line per round trip and a statistics line', async (t) => {
  const r = await cli('coping', '-c', '2', '--slow');
  t.is(r.code, Exit.OK);
  t.is(r.out.filter((l) => /^8 bytes from pid \d+: seq=\d time=[\d.]+ us$/.test(l)).length, 2);
  t.true(r.out.includes('--- pong cocall_slow statistics (inline runtime) ---'));
});

test('comsg cotrace decodes microkernel ops, their results and their errors, in enter/exit pairs', async (t) => {
  const r = await cli('cotrace', 'named-service', '--json');
  t.is(r.code, Exit.OK);
  const { calls, output } = json(r);
  t.true(output.includes('named-service: OK'));
  const enters = calls.filter((c: { phase: string }) => c.phase === 'enter');
  const exits = calls.filter((c: { phase: string }) => c.phase === 'exit');
  t.is(enters.length, exits.length);
  t.deepEqual(new Set(enters.map((c: { seq: number }) => c.seq)), new Set(exits.map((c: { seq: number }) => c.seq)));
  t.true(enters.some((c: { call: string }) => c.call.startsWith('COCREATE(name="weather", type="APPLICATION"')));
  const tides = enters.find((c: { call: string }) => c.call.startsWith('COSELECT(name="tides"'));
  t.truthy(tides);
  t.is(exits.find((c: { seq: number }) => c.seq === tides.seq).error, 'ENOENT');
  t.is(tides.callee.name.length > 0, true);
  // The clients' calls to the forecast workers are plain bytes, not microkernel blocks.
  t.true(enters.some((c: { caller: { name: string }; call: string }) => c.caller.name === 'client-a' && c.call === '16 bytes'));
  const text = await cli('cotrace', 'clocks');
  t.is(text.code, Exit.OK);
  t.true(text.out.some((l) => /^cotrace: #\d+ clock-client\[\d+\] -> clocks\[\d+\] cocall capv op \d+ \(len 16\)$/.test(l)));
});

test('comsg cotrace --runtime threads: every worker\'s calls, decoded, in enter/exit pairs', async (t) => {
  const r = await cli('cotrace', 'cocarrier', '--runtime', 'threads', '--json');
  t.is(r.code, Exit.OK, r.err.join('\n'));
  const { calls, output, runtime, lost } = json(r);
  t.is(runtime, 'threads');
  t.is(lost, 0);
  t.true(output.includes('[cocarrier] checksum OK'), output.join('\n'));
  const enters = calls.filter((c: { phase: string }) => c.phase === 'enter');
  const exits = calls.filter((c: { phase: string }) => c.phase === 'exit');
  t.is(enters.length, exits.length);
  // Calls on different workers overlap, so exits come in another order than enters.
  const seqs = (cs: Array<{ seq: number }>) => cs.map((c) => c.seq).sort((a, b) => a - b);
  t.deepEqual(seqs(enters), seqs(exits));
  t.is(new Set(seqs(enters)).size, enters.length, 'one enter per call');
  // The data path: the producer's COSEND and the consumer's CORECV are cocalls into ipcd's workers.
  const send = enters.find((c: { call: string }) => c.call.startsWith('COSEND(port=cap('));
  t.like(send, { caller: { name: 'producer' }, callee: { name: 'ipcd' } });
  const recv = exits.find((c: { caller: { name: string }; reply?: string }) => c.caller.name === 'consumer' && /^\{msg=cap\(/.test(c.reply ?? ''));
  t.truthy(recv, 'a CORECV exit decodes its message capability from the reply snapshot');
  const inlineOnly = await cli('cotrace', 'named-service', '--runtime', 'threads');
  t.is(inlineOnly.code, Exit.UNAVAILABLE);
});

test('comsg ps lists the microkernel daemons serving and the example programs exited', async (t) => {
  const r = await cli('ps', '--json');
  t.is(r.code, Exit.OK);
  const [space] = json(r).spaces;
  const byName = new Map(space.processes.map((p: { name: string }) => [p.name, p]));
  for (const d of ['coprocd', 'nsd', 'coserviced', 'coeventd', 'ipcd']) {
    t.is((byName.get(d) as { state: string }).state, 'running', d);
    t.is(space.daemons[d], (byName.get(d) as { pid: number }).pid);
  }
  const client = byName.get('client-a') as { exit: { reason: string; code: number }; threads: Array<{ made: number }> };
  t.deepEqual(client.exit, { reason: 'returned', code: 0 });
  t.true(client.threads[0]!.made > 0);
  const text = await cli('ps', 'cocarrier', '--threads');
  t.is(text.code, Exit.OK);
  t.regex(text.out[0]!, /^PID\s+TID\s+THREAD\s+STATE\s+TARGET\s+MADE\s+SERVED$/);
});

test('comsg capv names each slot and asks targets for their answerback', async (t) => {
  const r = await cli('capv', '--json');
  t.is(r.code, Exit.OK);
  const rows = json(r).spaces[0].capv;
  const boot = rows.find((c: { process: string; slot: number }) => c.process === 'nsd' && c.slot === 0);
  t.is(boot.slotName, 'DCAPV_BOOT');
  t.is(boot.kind, 'target');
  t.regex(boot.answerback, /BOOT_REPORT/);
  t.is(rows.find((c: { process: string; slot: number }) => c.process === 'nsd' && c.slot === 1).kind, 'memory');
  const clocks = await cli('capv', 'clocks', '--json');
  const all = json(clocks).spaces.flatMap((s: { capv: unknown[] }) => s.capv);
  t.true(all.some((c: { slotName: string; kind: string }) => c.slotName === 'CAPV_CLOCKS' && c.kind === 'target'));
});

test('comsg ns shows the tree with types and rights, and refuses an example without nsd', async (t) => {
  const r = await cli('ns', '--json');
  t.is(r.code, Exit.OK);
  const doc = json(r);
  t.is(doc.namespaces.type, 'ROOT');
  const weather = doc.namespaces.members.find((m: { name: string }) => m.name === 'weather');
  t.like(weather, { kind: 'namespace', type: 'APPLICATION', rights: { creator: 'OWN', joiner: 'WR' } });
  t.like(weather.members[0], { kind: 'object', name: 'forecast', type: 'COSERVICE', rights: { inserter: 'R D' } });
  t.is(doc.usage.namespaces, 2);
  const text = await cli('ns', 'copipe');
  t.true(text.out.some((l) => /└─ demo-copipe\/ {2}APPLICATION/.test(l)));
  t.true(text.out.some((l) => l.includes('stream  COPORT')));
  const none = await cli('ns', 'clocks');
  t.is(none.code, Exit.UNAVAILABLE);
});

test('the comsg bin runs from a fresh install (npx comsg): exit codes pass through', (t) => {
  const bin = fileURLToPath(new URL('../bin/comsg.mjs', import.meta.url));
  const ok = spawnSync(process.execPath, [bin, 'ns', '--json'], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stderr);
  t.is(JSON.parse(ok.stdout).namespaces.name, 'coproc');
  const bad = spawnSync(process.execPath, [bin, 'nope'], { encoding: 'utf8' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /unknown command "nope"/);
});

test('comsg quota shows each co-process’s namespaces, objects and coports against the quotas', async (t) => {
  const r = await cli('quota', 'copipe', '--json');
  t.is(r.code, Exit.OK);
  const doc = json(r);
  t.deepEqual(doc.quota, { namespaces: 64, objects: 512, ports: 64 });
  const consumer = doc.rows.find((x: { name: string }) => x.name === 'consumer');
  const producer = doc.rows.find((x: { name: string }) => x.name === 'producer');
  t.like(consumer, { objects: 1 }, 'the consumer stored the named port');
  // Both cocreate the namespace; it is charged to whichever came first (timing on a busy machine).
  t.is((consumer?.namespaces ?? 0) + (producer?.namespaces ?? 0), 1, 'the shared namespace is charged once');
  const coprocd = doc.rows.find((x: { name: string }) => x.name === 'coprocd');
  t.is(coprocd.objects, 19, 'the microkernel’s own entries are counted (and exempt from the quota)');
  const text = await cli('quota');
  t.regex(text.out[0]!, /^PID\s+NAME\s+NAMESPACES\s+OBJECTS\s+COPORTS$/);
  t.true(text.out.some((l) => /^\d+\s+forecaster\s+1\/64\s+1\/512\s+0\/64$/.test(l)));
});

test('comsg ps, capv, ns and quota --runtime threads inspect a coport example whose daemons run on workers', async (t) => {
  const ps = json(await cli('ps', 'cochannel', '--runtime', 'threads', '--json'));
  const procs = ps.spaces[0].processes as Array<{ name: string; state: string; threads: Array<{ served: number }> }>;
  t.deepEqual(procs.map((p) => p.name).sort(), ['coeventd', 'consumer', 'coprocd', 'coserviced', 'ipcd', 'nsd', 'producer']);
  t.true(procs.find((p) => p.name === 'ipcd')!.threads.some((th) => th.served > 0), 'ipcd served calls');
  const capv = json(await cli('capv', 'cochannel', '--runtime', 'threads', '--json'));
  const slots = (capv.spaces[0].capv as Array<{ process: string; slotName: string }>).map((c) => `${c.process}:${c.slotName}`);
  for (const s of ['coprocd:COPROCD_INSPECT_PAGE', 'ipcd:DCAPV_INSPECT', 'nsd:DCAPV_TYPES']) t.true(slots.includes(s), s);
  const ns = json(await cli('ns', 'cochannel', '--runtime', 'threads', '--json'));
  const app = ns.namespaces.members.find((m: { name: string }) => m.name === 'demo-cochannel');
  t.deepEqual(app.members.map((m: { name: string; type: string }) => [m.name, m.type]), [['stream', 'COPORT']]);
  const quota = json(await cli('quota', 'copipe', '--runtime', 'threads', '--json'));
  t.true((quota.rows as Array<{ name: string; objects: number }>).some((r) => r.name === 'consumer' && r.objects === 1), JSON.stringify(quota.rows));
  const refused = await cli('ns', 'named-service', '--runtime', 'threads');
  t.is(refused.code, Exit.UNAVAILABLE);
  t.regex(refused.err.join('\n'), /inline runtime only/);
  t.is((await cli('ps', '--runtime', 'fibers')).code, Exit.USAGE);
});
