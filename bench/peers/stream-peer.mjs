// One-way stream sender for the throughput baselines (plain JS: loads without a TS loader).
// As a worker (workerData.mode 'clone' | 'transfer'): on each {count, size} from the parent,
// posts `count` messages of `size` bytes — structured-clone copies, or freshly allocated
// ArrayBuffers moved with a transfer list — then {done: true}.
// As a child process (argv: socketPath count size rounds): connects to the Unix-domain socket
// and writes count×size bytes per round, waiting for a one-byte ack between rounds.
import { parentPort, workerData } from 'node:worker_threads';
import net from 'node:net';

if (parentPort !== null) {
  const mode = workerData.mode;
  parentPort.on('message', ({ count, size, stop }) => {
    if (stop) return void parentPort.close();
    const reused = new Uint8Array(size).fill(7);
    for (let i = 0; i < count; i++) {
      if (mode === 'transfer') {
        const buf = new ArrayBuffer(size);
        new Uint8Array(buf)[0] = i & 0xff;
        parentPort.postMessage(buf, [buf]);
      } else {
        reused[0] = i & 0xff;
        parentPort.postMessage(reused);
      }
    }
    parentPort.postMessage({ done: true });
  });
} else {
  const [path, countS, sizeS, roundsS] = process.argv.slice(2);
  const count = Number(countS);
  const size = Number(sizeS);
  let rounds = Number(roundsS);
  const chunk = Buffer.alloc(size, 7);
  const sock = net.connect(path);
  const round = () => {
    let i = 0;
    const pump = () => {
      while (i < count) {
        i++;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
    };
    pump();
  };
  sock.on('connect', round);
  sock.on('data', () => {
    if (--rounds > 0) round();
    else sock.end();
  });
  sock.on('error', () => process.exit(1));
}
