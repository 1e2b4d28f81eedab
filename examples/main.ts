/** `npm start`: the capability-machine walkthrough, the clocks co-process demo, and the microkernel's named service. */
import { runClocksExample } from './clocks/main.js';
import { runNamedServiceExample } from './named-service/main.js';

console.log('### capability machine walkthrough\n');
await import('./walkthrough/main.js');
console.log('\n### clocks: a co-process service over cocall, plain, traced, and listed by capv\n');
const clocks = await runClocksExample();
console.log('\n### named-service: the microkernel boots; a coservice is published in a namespace and discovered\n');
const named = await runNamedServiceExample();
process.exitCode = clocks + named;
