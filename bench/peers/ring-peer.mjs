// The raw shared-memory stream baseline (plain JS: loads without a TS loader): a byte ring in
// a SharedArrayBuffer between two workers, with nothing of comsg in it — no capabilities, no
// locks, no wake-ups, both ends spinning. What a threads COCHANNEL message costs beyond the
// hardware: its END is published the same way (a sequentially consistent store, the only
// ordered store JS has), so the cache-line hand-offs per message are the same.
// workerData: { sab, role: 'producer' | 'consumer', size, count, capacity }. On each message
// from the parent (a round number) the producer stamps the start and sends count×size bytes;
// the consumer drains them into its own buffer and posts the elapsed nanoseconds.
import { parentPort, workerData } from 'node:worker_threads';

const { sab, role, size, count, capacity } = workerData;
// Control words, each on its own 64-byte line: END (producer), START (consumer), the start stamp.
const END = 0;
const START = 16;
const ring = new Uint8Array(sab, 0, capacity);
const ctl = new Int32Array(sab, capacity, 64);
const stamp = new BigInt64Array(sab, capacity + 256, 1);
const wrap = 2 * capacity;

if (role === 'producer') {
  const msg = new Uint8Array(size).fill(7);
  let end = 0;
  let start = 0;
  parentPort.on('message', () => {
    Atomics.store(stamp, 0, process.hrtime.bigint());
    for (let i = 0; i < count; i++) {
      // Counters run modulo twice the capacity, as COCHANNEL's do.
      while ((end - start + wrap) % wrap + size > capacity) start = Atomics.load(ctl, START);
      const at = end % capacity;
      const first = Math.min(size, capacity - at);
      ring.set(first === size ? msg : msg.subarray(0, first), at);
      if (first < size) ring.set(msg.subarray(first), 0);
      end = (end + size) % wrap;
      Atomics.store(ctl, END, end);
    }
  });
} else {
  const into = new Uint8Array(capacity);
  let start = 0;
  parentPort.on('message', () => {
    const total = size * count;
    let got = 0;
    while (got < total) {
      const end = Atomics.load(ctl, END);
      const n = (end - start + wrap) % wrap;
      if (n === 0) continue;
      const at = start % capacity;
      const first = Math.min(n, capacity - at);
      into.set(ring.subarray(at, at + first), 0);
      if (first < n) into.set(ring.subarray(0, n - first), first);
      start = (start + n) % wrap;
      Atomics.store(ctl, START, start);
      got += n;
    }
    parentPort.postMessage(Number(process.hrtime.bigint() - Atomics.load(stamp, 0)));
  });
}
