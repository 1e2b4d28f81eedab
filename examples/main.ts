/**
 * `npm start`: the capability-machine walkthrough, the clocks co-process demo, the
 * microkernel's named service, producer/consumer over each coport type, and coping.
 * `npm start -- --runtime threads` runs the runtime-neutral demos (coping, and producer/
 * consumer over each coport type with the microkernel booted) with every co-process on its
 * own worker thread.
 */
import { runClocksExample } from './clocks/main.js';
import { copingArgs, runCoping } from './coping/main.js';
import { runNamedServiceExample } from './named-service/main.js';
import { runCocarrier } from './producer-consumer/cocarrier.js';
import { runCochannel } from './producer-consumer/cochannel.js';
import { runCopipe } from './producer-consumer/copipe.js';

const { runtime } = copingArgs(process.argv.slice(2));

if (runtime === 'threads') {
  console.log('### coping (threads runtime): each co-process is a worker thread; cocalls go through shared memory\n');
  const fast = await runCoping({ runtime, count: 8 });
  console.log('\n### coping --slow (threads runtime): cocall_slow, routed through the kernel thread by postMessage\n');
  const slow = await runCoping({ runtime, count: 4, slow: true });
  console.log('\n### producer-consumer (threads runtime): coprocd, nsd, coserviced, coeventd, ipcd, the producer and the consumer each on a worker\n');
  let streams = 0;
  for (const run of [runCochannel, runCopipe, runCocarrier]) streams += await run({ runtime });
  process.exitCode = fast + slow + streams;
} else {
  console.log('### capability machine walkthrough\n');
  await import('./walkthrough/main.js');
  console.log('\n### clocks: a co-process service over cocall, plain, traced, and listed by capv\n');
  const clocks = await runClocksExample();
  console.log('\n### named-service: the microkernel boots; a coservice is published in a namespace and discovered\n');
  const named = await runNamedServiceExample();
  console.log('\n### producer-consumer: a named coport of each type carries a checksummed stream\n');
  let streams = 0;
  for (const run of [runCochannel, runCopipe, runCocarrier]) streams += await run();
  console.log('\n### coping: round trips to a co-process target (add `-- --runtime threads` for worker threads)\n');
  const coping = await runCoping({ runtime, count: 4 });
  process.exitCode = clocks + named + streams + coping;
}
