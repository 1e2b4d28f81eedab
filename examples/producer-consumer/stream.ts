/**
 * The producer/consumer demo, one program per coport type. A consumer co-process opens a
 * named coport "stream" in an APPLICATION namespace; a producer co-process joins the
 * namespace, finds the port by name, narrows its handle to send-only and streams messages of
 * varying size, then a zero-length end marker. Both sides keep a running FNV-1a checksum and
 * byte count; the transcript shows whether they agree.
 *
 * COCHANNEL is a byte stream, so messages are framed: a 4-byte little-endian length, then the
 * payload. COPIPE and COCARRIER keep message boundaries; their frames carry the same header.
 */
import * as E from 'fp-ts/lib/Either.js';
import { bootMicrokernel, createAddressSpace, type AddressSpaceApi, type Capability, type CapMachine } from '@comsg/libcoproc';
import type { CoportTypeName } from '@comsg/libcomsg';
import type { ExampleHooks } from '../hooks.js';
import { CONSUMER_TALLY, PRODUCER_TALLY, TALLY_BYTES, describe, type Tally } from './stream-programs.js';

export { fnv1a, payload } from './stream-programs.js';

export interface StreamOptions extends ExampleHooks {
  readonly messages?: number;
  /** Largest payload (bytes); sizes cycle from 1 up to this. */
  readonly maxPayload?: number;
}

const programs = new URL('./stream-programs.ts', import.meta.url).href;

function readTally(m: CapMachine, block: Capability, at: number): Tally | undefined {
  if (m.loadI32(block, at + 12) !== 1) return undefined;
  return { messages: m.loadI32(block, at), bytes: m.loadI32(block, at + 4), sum: m.loadI32(block, at + 8) >>> 0 };
}

/** Run the demo for one coport type (under `options.runtime`, default inline); 0 when both sides agree. */
export async function runStream(type: CoportTypeName, options: StreamOptions = {}): Promise<number> {
  const print = options.print ?? console.log;
  const count = options.messages ?? 200;
  const maxPayload = options.maxPayload ?? 200;
  const tag = type.toLowerCase();
  const space: AddressSpaceApi = createAddressSpace({ runtime: options.runtime ?? 'inline', stdout: print });
  options.onSpace?.(space);
  const kernel = bootMicrokernel(space);
  const up = await kernel.ready;
  if (E.isLeft(up)) {
    print(`[${tag}] microkernel failed to boot: ${describe(up.left)}`);
    await space.shutdown();
    return 1;
  }
  const tallies = space.allocateShared(TALLY_BYTES);
  const argv = (name: string) => [name, type, String(count), String(maxPayload), `demo-${tag}`];
  const consumer = space.spawn({ module: programs, export: 'consumer', name: 'consumer' }, { argv: argv('consumer'), capv: [tallies] });
  const producer = space.spawn({ module: programs, export: 'producer', name: 'producer' }, { argv: argv('producer'), capv: [tallies] });
  const codes = await Promise.all([consumer.exited, producer.exited]);
  await options.beforeShutdown?.(space, kernel);
  await space.shutdown();
  const sent = readTally(space.machine, tallies, PRODUCER_TALLY);
  const received = readTally(space.machine, tallies, CONSUMER_TALLY);
  const agree = codes.every((s) => s.code === 0) && sent !== undefined && received !== undefined && sent.messages === received.messages && sent.bytes === received.bytes && sent.sum === received.sum;
  print(`[${tag}] ${agree ? 'checksum OK' : 'MISMATCH'}`);
  return agree ? 0 : 1;
}
