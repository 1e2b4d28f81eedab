/**
 * Batched revocation (CHERI's quarantine, as in Cornucopia): a freed region is revoked for
 * registers at once and held out of reuse; when the held bytes pass a limit, one sweep of
 * memory clears every stored capability into all of them and the regions are released.
 * Sweeping per free costs a pass over all of memory each time; batching amortises it.
 *
 * Guarantee: no capability — in a register or in memory — can reach a region once it has been
 * reused. Between free and sweep, a capability stored in memory may still read the freed
 * region (whose bytes the owner should clear on free), never anything allocated later.
 */
import type { Capability } from './capability.js';
import type { CapMachine } from './machine.js';

export class Quarantine {
  readonly #m: CapMachine;
  readonly #held: Array<{ readonly region: Capability; readonly release: () => void }> = [];
  #bytes = 0;
  #sweeps = 0;

  constructor(machine: CapMachine, readonly limitBytes: number) {
    this.#m = machine;
  }

  /** Bytes held, waiting for the next sweep. */
  get bytes(): number {
    return this.#bytes;
  }

  get sweeps(): number {
    return this.#sweeps;
  }

  /** Revoke `region` for registers now, hold it, and call `release` once it has been swept. */
  add(region: Capability, release: () => void): void {
    this.#m.markRevoked(region);
    this.#held.push({ region, release });
    this.#bytes += Number(region.length);
    if (this.#bytes >= this.limitBytes) this.flush();
  }

  /**
   * An allocation that may need the held regions back: try it; if it fails while regions are
   * held, sweep them out and try once more.
   */
  orSweep<T>(attempt: () => T | undefined): T | undefined {
    const first = attempt();
    if (first !== undefined || this.#held.length === 0) return first;
    this.flush();
    return attempt();
  }

  /** Sweep once for every held region and release them all; returns the capabilities cleared. */
  flush(): number {
    if (this.#held.length === 0) return 0;
    const held = this.#held.splice(0);
    this.#bytes = 0;
    this.#sweeps++;
    const cleared = this.#m.sweepRevoked(held.map((h) => h.region));
    for (const h of held) h.release();
    return cleared;
  }
}
