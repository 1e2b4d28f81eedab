/**
 * `npm start`: the capability-machine walkthrough, the clocks co-process demo, the
 * microkernel's named service, and producer/consumer over each coport type.
 */
import { runClocksExample } from './clocks/main.js';
import { runNamedServiceExample } from './named-service/main.js';
import { runCocarrier } from './producer-consumer/cocarrier.js';
import { runCochannel } from './producer-consumer/cochannel.js';
import { runCopipe } from './producer-consumer/copipe.js';

console.log('### capability machine walkthrough\n');
await import('./walkthrough/main.js');
console.log('\n### clocks: a co-process service over cocall, plain, traced, and listed by capv\n');
const clocks = await runClocksExample();
console.log('\n### named-service: the microkernel boots; a coservice is published in a namespace and discovered\n');
const named = await runNamedServiceExample();
console.log('\n### producer-consumer: a named coport of each type carries a checksummed stream\n');
let streams = 0;
for (const run of [runCochannel, runCopipe, runCocarrier]) streams += await run();
process.exitCode = clocks + named + streams;
