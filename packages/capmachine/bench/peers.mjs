// Baseline peers for the threads benchmark, plain JS so they load without a TypeScript loader.
// Control SAB words: 0 go (host bumps), 1 batch size, 3 done (caller bumps); f64 at byte 16: ns.
// role 'sab-callee'/'sab-caller': a raw SharedArrayBuffer ping-pong copying 64 B each way
// (spin, then sleep with a flag the caller checks: the hybrid of node-ipc-anchors §6.1).
// role 'port-callee'/'port-caller': MessagePort ping-pong of a 64 B Uint8Array (structured clone).
import { parentPort, workerData } from 'node:worker_threads';

const { role, control, sab, port } = workerData;
const C = new Int32Array(control);
const F = new Float64Array(control, 16, 1);

if (role === 'sab-callee') {
  const W = new Int32Array(sab);
  const req = new Uint8Array(sab, 512, 64);
  const resp = new Uint8Array(sab, 1024, 64);
  const inbox = new Uint8Array(64);
  const reply = new Uint8Array(64).fill(2);
  let seen = 0;
  // Hybrid wait, as the runtime does: spin ~20k polls, then publish a sleep flag and wait.
  for (;;) {
    let v = Atomics.load(W, 0);
    for (let i = 0; v === seen && i < 20_000; i++) v = Atomics.load(W, 0);
    while (v === seen) {
      Atomics.store(W, 64, 1);
      if (Atomics.load(W, 0) === seen) Atomics.wait(W, 0, seen);
      Atomics.store(W, 64, 0);
      v = Atomics.load(W, 0);
    }
    if (v < 0) break;
    seen = v;
    inbox.set(req);
    resp.set(reply);
    Atomics.store(W, 32, v);
  }
} else if (role === 'sab-caller') {
  const W = new Int32Array(sab);
  const req = new Uint8Array(sab, 512, 64);
  const resp = new Uint8Array(sab, 1024, 64);
  const out = new Uint8Array(64).fill(1);
  const inb = new Uint8Array(64);
  let seq = 0;
  let seen = 0;
  parentPort.postMessage('ready');
  for (;;) {
    Atomics.wait(C, 0, seen);
    seen = Atomics.load(C, 0);
    if (seen < 0) {
      Atomics.store(W, 0, -1);
      Atomics.notify(W, 0);
      break;
    }
    const n = Atomics.load(C, 1);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      req.set(out);
      Atomics.store(W, 0, ++seq);
      if (Atomics.load(W, 64) !== 0) Atomics.notify(W, 0);
      while (Atomics.load(W, 32) !== seq);
      inb.set(resp);
    }
    F[0] = Number(process.hrtime.bigint() - t0);
    Atomics.add(C, 3, 1);
    Atomics.notify(C, 3);
  }
} else if (role === 'port-callee') {
  port.on('message', (m) => {
    if (m === null) return port.close();
    port.postMessage(m);
  });
} else if (role === 'port-caller') {
  // One persistent listener: a referenced port also keeps this worker alive between batches
  // (a pending waitAsync alone does not).
  const msg = new Uint8Array(64).fill(1);
  let seen = 0;
  let left = 0;
  let t0 = 0n;
  port.on('message', () => {
    if (--left > 0) return port.postMessage(msg);
    F[0] = Number(process.hrtime.bigint() - t0);
    Atomics.add(C, 3, 1);
    Atomics.notify(C, 3);
    next();
  });
  const next = () => {
    const r = Atomics.waitAsync(C, 0, seen);
    (r.async ? r.value : Promise.resolve()).then(() => {
      seen = Atomics.load(C, 0);
      if (seen < 0) {
        port.postMessage(null);
        port.close();
        return;
      }
      left = Atomics.load(C, 1);
      t0 = process.hrtime.bigint();
      port.postMessage(msg);
    });
  };
  parentPort.postMessage('ready');
  next();
}
