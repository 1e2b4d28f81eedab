/**
 * A worker's cocall_slow requests, sorted by callee. The kernel posts every slow request for
 * any thread of the worker on one port; each serving thread takes only its own.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { SlowRequest } from './protocol.js';

export class SlowInbox {
  readonly #port: MessagePort;
  readonly #queues = new Map<number, SlowRequest[]>();

  constructor(port: MessagePort) {
    this.#port = port;
  }

  /** The oldest request for the thread whose SCB is `callee`, if one has arrived. */
  take(callee: number): SlowRequest | undefined {
    for (let got = receiveMessageOnPort(this.#port); got !== undefined; got = receiveMessageOnPort(this.#port)) {
      const req = got.message as SlowRequest;
      const q = this.#queues.get(req.callee);
      if (q === undefined) this.#queues.set(req.callee, [req]);
      else q.push(req);
    }
    return this.#queues.get(callee)?.shift();
  }
}
