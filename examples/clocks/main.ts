/**
 * The clocks example: a clock service reached through capv, the same run under cotrace
 * (every cocall's enter/exit printed), and capv(1) listing what the vector holds.
 *
 *   node --conditions=comsg:source --import=tsx examples/clocks/main.ts
 */
import { AddressSpace, Tracer, cotrace, type TraceEnter, type TraceExit } from '@comsg/libcoproc';
import { capvTool } from './capv-tool.js';
import { clockClient } from './client.js';
import { clocks } from './clocks.js';
import { describeClocksPacket } from './protocol.js';
import { hooksOf, type ExampleHooks } from '../hooks.js';

export async function runClocksExample(options?: ExampleHooks | ((line: string) => void)): Promise<number> {
  const hooks = hooksOf(options);
  const print = hooks.print ?? console.log;
  let failures = 0;
  const run = async (title: string, setup: (space: AddressSpace) => Promise<{ code: number }>): Promise<void> => {
    print(`== ${title}`);
    const space = AddressSpace.create({ stdout: print });
    hooks.onSpace?.(space);
    const status = await setup(space);
    await hooks.beforeShutdown?.(space, undefined);
    await space.shutdown();
    if (status.code !== 0) failures++;
    print(`   exit ${status.code}`);
  };

  await run('clocks client', async (space) => {
    const h = space.spawn(clocks(clockClient));
    await space.run();
    return h.exited;
  });

  await run('clocks cotrace client (traced)', async (space) => {
    const tracer = new Tracer((bytes, dir) => describeClocksPacket(bytes, dir));
    const line = (e: TraceEnter | TraceExit, dir: string): string =>
      `cotrace: #${e.seq} pid ${e.pid} slot ${e.slot} ${dir}`;
    tracer.on('enter', (e) => print(`${line(e, '->')} ${e.outlen} bytes ${e.preview.decoded ?? `op ${e.preview.op}`}`));
    tracer.on('exit', (e) => print(`${line(e, '<-')} ${e.received} bytes ${e.error ?? e.reply.decoded ?? `op ${e.reply.op}`}`));
    const h = space.spawn(clocks(cotrace(clockClient, tracer)));
    await space.run();
    return h.exited;
  });

  await run('clocks capv', async (space) => {
    const h = space.spawn(clocks(capvTool));
    await space.run();
    return h.exited;
  });
  return failures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runClocksExample();
}
