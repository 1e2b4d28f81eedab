/**
 * Producer/consumer over a COPIPE coport (see stream.ts):
 *
 *   node --conditions=comsg:source --import=tsx examples/producer-consumer/copipe.ts
 */
import { runStream, type StreamOptions } from './stream.js';

export function runCopipe(options: StreamOptions = {}): Promise<number> {
  return runStream('COPIPE', options);
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await runCopipe();
