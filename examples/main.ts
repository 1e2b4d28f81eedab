/** `npm start`: the capability-machine walkthrough, then the clocks co-process demo. */
import { runClocksExample } from './clocks/main.js';

console.log('### capability machine walkthrough\n');
await import('./walkthrough/main.js');
console.log('\n### clocks: a co-process service over cocall, plain, traced, and listed by capv\n');
process.exitCode = await runClocksExample();
