/**
 * Capabilities loaded from memory, remembered per granule together with the raw words they
 * were decoded from. A protocol that loads one stored capability over and over (a COPIPE
 * sender loads the receiver's published buffer once per message) gets the same immutable
 * value back instead of minting it and decoding its bounds again — the decode is most of what
 * a capability load costs. A hit needs the granule's four words, whether the load yields a tag
 * (the granule's tag and the authority's LOAD_CAP), and the revocation epoch all to be what
 * they were, so it returns exactly what a fresh load would.
 *
 * Direct-mapped and small: a thread's hot loads are few. Each thread (worker) has its own.
 */
const ENTRIES = 64;

interface Entry<T> {
  readonly address: number;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  readonly tagged: boolean;
  readonly epoch: number;
  readonly value: T;
}

export class LoadCache<T> {
  readonly #entries: Array<Entry<T> | undefined> = new Array<Entry<T> | undefined>(ENTRIES).fill(undefined);

  /** The value remembered for the granule at `address` (16-aligned), if its words, tag and epoch are unchanged. */
  get(words: Int32Array, address: number, tagged: boolean, epoch: number): T | undefined {
    const e = this.#entries[(address >>> 4) & (ENTRIES - 1)];
    if (e === undefined || e.address !== address || e.tagged !== tagged || e.epoch !== epoch) return undefined;
    const i = address >>> 2;
    return words[i] === e.w0 && words[i + 1] === e.w1 && words[i + 2] === e.w2 && words[i + 3] === e.w3 ? e.value : undefined;
  }

  /** Remember `value` as what the granule's current words decode to. */
  set(words: Int32Array, address: number, tagged: boolean, epoch: number, value: T): void {
    const i = address >>> 2;
    this.#entries[(address >>> 4) & (ENTRIES - 1)] = { address, w0: words[i]!, w1: words[i + 1]!, w2: words[i + 2]!, w3: words[i + 3]!, tagged, epoch, value };
  }
}
