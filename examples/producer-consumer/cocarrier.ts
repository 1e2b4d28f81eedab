/**
 * Producer/consumer over a COCARRIER coport (see stream.ts):
 *
 *   node --conditions=comsg:source --import=tsx examples/producer-consumer/cocarrier.ts
 */
import { runStream, type StreamOptions } from './stream.js';

export function runCocarrier(options: StreamOptions = {}): Promise<number> {
  return runStream('COCARRIER', options);
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await runCocarrier();
