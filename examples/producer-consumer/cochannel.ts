/**
 * Producer/consumer over a COCHANNEL coport (see stream.ts):
 *
 *   node --conditions=comsg:source --import=tsx examples/producer-consumer/cochannel.ts
 */
import { runStream, type StreamOptions } from './stream.js';

export function runCochannel(options: StreamOptions = {}): Promise<number> {
  return runStream('COCHANNEL', options);
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await runCochannel();
