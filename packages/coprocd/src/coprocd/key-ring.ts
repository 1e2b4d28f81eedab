/**
 * Daemon authority minted ahead of time, for hosts that cannot answer coprocd's `mintKeys`
 * callback (the threads runtime). The host mints one key set per daemon per possible
 * instance (the first start and every allowed restart) into a block only coprocd receives;
 * coprocd takes the next unused set at each (re)start, so no two instances share keys.
 */
import type { Capability, CapMachine } from '@comsg/capmachine';
import { CORE_DAEMONS, type CoreDaemon } from './coprocd.js';
import type { DaemonKeys } from './daemons.js';

const SET_BYTES = 48;

export function keyRingBytes(instances: number): number {
  return CORE_DAEMONS.length * instances * SET_BYTES;
}

/** Host side: fill the ring with `instances` fresh key sets per daemon. */
export function fillKeyRing(m: CapMachine, ring: Capability, instances: number, mint: (daemon: CoreDaemon) => DaemonKeys): void {
  CORE_DAEMONS.forEach((d, di) => {
    for (let k = 0; k < instances; k++) {
      const at = (di * instances + k) * SET_BYTES;
      const keys = mint(d);
      m.storeCap(ring, at, keys.types);
      m.storeCap(ring, at + 16, keys.tokensA);
      m.storeCap(ring, at + 32, keys.tokensB);
    }
  });
}

/** coprocd side: a `mintKeys` that hands out the ring's sets in order (it throws past the last: a bug, restarts are bounded). */
export function keyRingReader(m: CapMachine, ring: Capability, instances: number): (daemon: CoreDaemon) => DaemonKeys {
  const used = new Map<CoreDaemon, number>();
  return (d) => {
    const k = used.get(d) ?? 0;
    if (k >= instances) throw new Error(`no key set left for ${d}`);
    used.set(d, k + 1);
    const at = (CORE_DAEMONS.indexOf(d) * instances + k) * SET_BYTES;
    return { types: m.loadCap(ring, at), tokensA: m.loadCap(ring, at + 16), tokensB: m.loadCap(ring, at + 32) };
  };
}
