/**
 * COCARRIER state, private to ipcd (spec §3.7): per port a FIFO of message copies in ipcd's
 * arena and the messages handed out but not yet freed. A receiver's capability is LOAD-only
 * and bounded to its message; freeing — explicit, on close, or when the receiver exits —
 * revokes it before the memory is reused (fixes §8.16: no leaks, no dangling reads).
 */
import type { Capability, CapMachine, CoThreadApi } from '@comsg/capmachine';
import { PollEvent } from '../protocol/types.js';
import type { Allocation, Arena } from './arena.js';
import { Rec, publish, updateEvents } from './port-record.js';
import type { PortSlot } from './port-table.js';

export interface Attachment {
  readonly cap: Capability;
  readonly kind: number;
}

export interface Message {
  readonly alloc: Allocation;
  readonly len: number;
  /** What the receiver gets: LOAD only, bounds = the message. */
  readonly view: Capability;
  readonly attachments: readonly Attachment[];
  receiver: number;
}

export interface CarrierPort {
  readonly queue: Message[];
  /** Received, not yet freed, by the view's base address. */
  readonly outstanding: Map<number, Message>;
}

export class CarrierState {
  readonly #ports = new Map<PortSlot, CarrierPort>();

  constructor(
    readonly machine: CapMachine,
    readonly arena: Arena,
    readonly queueDepth: number,
    /** Registers a cleanup for when `pid` exits (once per pid; see ExitWatch). */
    readonly watchExit: (pid: number, then: () => void) => void,
  ) {}

  of(port: PortSlot): CarrierPort {
    let c = this.#ports.get(port);
    if (c === undefined) this.#ports.set(port, (c = { queue: [], outstanding: new Map() }));
    return c;
  }

  /** Record the new queue length and the IN/OUT events it implies, and wake waiters. */
  sync(thread: CoThreadApi, port: PortSlot, add = 0, remove = 0): void {
    const w = this.machine.words(port.rec);
    const q = this.of(port).queue.length;
    w.store(Rec.LENGTH, q);
    const inOut = (q > 0 ? PollEvent.IN : 0) | (q < this.queueDepth && !port.closed ? PollEvent.OUT : 0);
    updateEvents(w, inOut | add, ((PollEvent.IN | PollEvent.OUT) & ~inOut) | remove);
    publish(w, thread);
  }

  /** Hand the head message to `pid`. */
  take(port: PortSlot, pid: number): Message | undefined {
    const c = this.of(port);
    const msg = c.queue.shift();
    if (msg === undefined) return undefined;
    msg.receiver = pid;
    c.outstanding.set(msg.view.baseNumber, msg);
    this.watchExit(pid, () => this.freeAllOf(pid));
    return msg;
  }

  free(port: PortSlot, msg: Message): void {
    this.of(port).outstanding.delete(msg.view.baseNumber);
    this.arena.free(msg.alloc);
  }

  /** Free everything of a port (it is being released). */
  freeAll(port: PortSlot): void {
    const c = this.#ports.get(port);
    if (c === undefined) return;
    for (const msg of c.queue.splice(0)) this.arena.free(msg.alloc);
    this.freeOutstanding(port);
    this.#ports.delete(port);
  }

  freeOutstanding(port: PortSlot): number {
    const c = this.#ports.get(port);
    if (c === undefined) return 0;
    const n = c.outstanding.size;
    for (const msg of c.outstanding.values()) this.arena.free(msg.alloc);
    c.outstanding.clear();
    return n;
  }

  /** A receiver exited: its messages are revoked and freed. */
  freeAllOf(pid: number): void {
    for (const c of this.#ports.values()) {
      for (const [k, msg] of c.outstanding) {
        if (msg.receiver === pid) {
          c.outstanding.delete(k);
          this.arena.free(msg.alloc);
        }
      }
    }
  }

  /** Drained, closed and with nothing outstanding: the slot can be released. */
  releasable(port: PortSlot): boolean {
    const c = this.#ports.get(port);
    return port.closed && (c === undefined || (c.queue.length === 0 && c.outstanding.size === 0));
  }
}
