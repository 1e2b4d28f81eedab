/**
 * Physical tagged memory: bytes in a SharedArrayBuffer plus one tag bit per 16-byte granule
 * in a second SharedArrayBuffer, so worker threads can map the very same memory.
 *
 * This object *is* full authority over the address space: it does no capability checks.
 * Only the machine's privileged code (boot, switcher, revocation) holds it; co-processes reach
 * memory exclusively through capability-checked accesses.
 *
 * Invariant kept by every method: a data write clears the tag of every granule it touches;
 * only `writeCapability` (and tag-preserving copies of whole granules) sets a tag.
 */
import { MASK64, decodeBounds, fromMemoryPesbt, toMemoryPesbt } from './cc128-math.js';
import { RevocationMap } from './revocation.js';
import { LoadCache } from './load-cache.js';
import type { Capability } from './capability.js';

export const GRANULE = 16;
const MAX_BYTES = 2 ** 32 - GRANULE;

/** The buffers behind a TaggedMemory; hand these to a worker to share the memory. */
export interface TaggedMemoryBuffers {
  readonly data: SharedArrayBuffer;
  readonly tags: SharedArrayBuffer;
  /** Revocation epochs (see revocation.ts); created when absent. */
  readonly revocation?: SharedArrayBuffer;
  /** One bit per tag block (see TAG_BLOCK_GRANULES): set while the block may hold a tag; created when absent. */
  readonly summary?: SharedArrayBuffer;
}

/**
 * Granules per tag block: 1024 (16 KiB of data, 32 words of tag bits). A summary bit per block
 * says whether any of its tags may be set, so clearing the tags of a long data write — a 64 KiB
 * copy touches 128 tag words — reads one summary word when nothing there was ever tagged.
 */
export const TAG_BLOCK_GRANULES = 1024;
const BLOCK_SHIFT = 10;

/** A capability as stored in a granule: the raw (register-form) bits and the tag. */
export interface StoredCapabilityBits {
  readonly tag: boolean;
  readonly address: bigint;
  readonly pesbt: bigint;
}

export class TaggedMemory {
  readonly size: number;
  readonly buffers: TaggedMemoryBuffers;
  /** @internal raw bytes: privileged code only. */
  readonly bytes: Uint8Array;
  readonly #tags: Uint8Array;
  /** The tag bits as 32-bit words (32 granules each), for clearing long ranges. */
  readonly #tagWords: Int32Array;
  /** One bit per tag block: clear only while no granule of the block is tagged (see clearTags). */
  readonly #summary: Int32Array;
  /** The last granule that exists (a block past it is partial). */
  readonly #lastGranule: number;
  readonly #view: DataView;
  /** @internal 32-bit words over the data, for atomics. */
  readonly words: Int32Array;
  readonly revocation: RevocationMap;
  /**
   * One agent (JS thread) uses this memory: nothing else maps its buffers. Then the machine's
   * atomic word operations are plain loads and stores, as on a uniprocessor — an
   * Atomics.compareExchange costs about four plain accesses, and the inline runtime's coport
   * protocols make a dozen per message. Set by whoever creates the memory (the inline address
   * space), never for buffers attached from elsewhere.
   */
  readonly exclusive: boolean;
  /** @internal capabilities this thread loaded lately (see load-cache.ts). */
  readonly loaded = new LoadCache<Capability>();
  /** True once anything was revoked (read from the shared epoch, so every thread sees it). */
  get revoking(): boolean {
    return this.#revocationWords[0] !== 0;
  }
  readonly #revocationWords: Uint32Array;

  constructor(sizeOrBuffers: number | TaggedMemoryBuffers, options: { readonly exclusive?: boolean } = {}) {
    let buffers: TaggedMemoryBuffers;
    if (options.exclusive === true && typeof sizeOrBuffers !== 'number') {
      throw new RangeError('exclusive memory must be created here, not attached to existing buffers');
    }
    this.exclusive = options.exclusive === true;
    if (typeof sizeOrBuffers === 'number') {
      const size = sizeOrBuffers;
      if (!Number.isInteger(size) || size <= 0 || size % GRANULE !== 0 || size > MAX_BYTES) {
        throw new RangeError(`memory size must be a positive multiple of 16 up to ${MAX_BYTES}, got ${size}`);
      }
      buffers = {
        data: new SharedArrayBuffer(size),
        tags: new SharedArrayBuffer(Math.ceil(size / GRANULE / 8)),
      };
    } else {
      buffers = sizeOrBuffers;
    }
    const revocation = buffers.revocation ?? new SharedArrayBuffer(RevocationMap.bytesFor(buffers.data.byteLength));
    const granules = buffers.data.byteLength / GRANULE;
    const summary = buffers.summary ?? new SharedArrayBuffer(4 * Math.ceil(granules / TAG_BLOCK_GRANULES / 32));
    buffers = { ...buffers, revocation, summary };
    this.buffers = buffers;
    this.size = buffers.data.byteLength;
    this.revocation = new RevocationMap(revocation, this.size);
    this.#revocationWords = new Uint32Array(revocation, 0, 1);
    this.bytes = new Uint8Array(buffers.data);
    this.#tags = new Uint8Array(buffers.tags);
    this.#tagWords = new Int32Array(buffers.tags, 0, buffers.tags.byteLength >>> 2);
    this.#summary = new Int32Array(summary);
    this.#lastGranule = granules - 1;
    this.#view = new DataView(buffers.data);
    this.words = new Int32Array(buffers.data, 0, this.size >>> 2);
  }

  /** The tag of the granule holding `address`. */
  tagAt(address: number): boolean {
    const g = address >>> 4;
    return ((this.#tags[g >>> 3] ?? 0) & (1 << (g & 7))) !== 0;
  }

  /** True if any granule overlapping [address, address+length) is tagged. */
  anyTag(address: number, length: number): boolean {
    if (length <= 0) return false;
    const tags = this.#tags;
    const gEnd = (address + length - 1) >>> 4;
    for (let g = address >>> 4; g <= gEnd; ) {
      const byte = g >>> 3;
      const v = tags[byte] ?? 0;
      if (v !== 0) {
        const hi = Math.min(7, gEnd - (byte << 3));
        const mask = (0xff << (g & 7)) & (0xff >>> (7 - hi));
        if ((v & mask) !== 0) return true;
      }
      g = (byte + 1) << 3;
    }
    return false;
  }

  /**
   * Clear the tag of every granule that [address, address+length) touches. A block whose
   * summary bit is clear is skipped whole; a block the range covers entirely has its summary
   * bit cleared first, then its tags. A capability store sets its tag first, then the summary
   * bit (#setTag): whichever way the two interleave, a set tag never ends up under a clear
   * summary bit — either the store's summary write comes last, or its tag write came before
   * this clear and is cleared here.
   */
  clearTags(address: number, length: number): void {
    if (length <= 0) return;
    const gEnd = (address + length - 1) >>> 4;
    const summary = this.#summary;
    // The common short write lies in one block that holds no tag: one summary read.
    const endBlock = gEnd >>> BLOCK_SHIFT;
    if ((summary[endBlock >>> 5]! & (1 << (endBlock & 31))) === 0 && address >>> (4 + BLOCK_SHIFT) === endBlock) return;
    for (let g = address >>> 4; g <= gEnd; ) {
      const block = g >>> BLOCK_SHIFT;
      const blockEnd = Math.min(((block + 1) << BLOCK_SHIFT) - 1, this.#lastGranule);
      const last = Math.min(gEnd, blockEnd);
      const bit = 1 << (block & 31);
      if ((summary[block >>> 5]! & bit) !== 0) {
        if (g === block << BLOCK_SHIFT && last === blockEnd) {
          if (this.exclusive) summary[block >>> 5]! &= ~bit;
          else Atomics.and(summary, block >>> 5, ~bit);
        }
        this.#clearGranules(g, last);
      }
      g = last + 1;
    }
  }

  /** Clear the tags of granules g…gEnd (inclusive), a tag word (32 granules) at a time where it can. */
  #clearGranules(first: number, gEnd: number): void {
    const tags = this.#tags;
    const words = this.#tagWords;
    const exclusive = this.exclusive;
    for (let g = first; g <= gEnd; ) {
      const byte = g >>> 3;
      // 32 granules (512 bytes) whose tag bits fill one aligned word, all inside the range: one
      // read for the lot.
      if ((g & 31) === 0 && gEnd - g >= 31) {
        const i = byte >>> 2;
        if (words[i] !== 0) {
          if (exclusive) words[i] = 0;
          else Atomics.store(words, i, 0);
        }
        g += 32;
        continue;
      }
      const v = tags[byte] ?? 0;
      if (v !== 0) {
        const hi = Math.min(7, gEnd - (byte << 3));
        const mask = (0xff << (g & 7)) & (0xff >>> (7 - hi));
        if ((v & mask) !== 0) Atomics.and(tags, byte, ~mask & 0xff);
      }
      g = (byte + 1) << 3;
    }
  }

  // ── atomic 32-bit word operations, by word index: each clears its granule's tag (a data
  // write); on exclusive memory they are plain accesses (see `exclusive`). ──

  /** A sequentially consistent read. */
  loadWordAtomic(i: number): number {
    return this.exclusive ? this.words[i]! : Atomics.load(this.words, i);
  }

  storeWord(i: number, value: number): void {
    this.clearWordTag(i << 2);
    if (this.exclusive) this.words[i] = value;
    else Atomics.store(this.words, i, value | 0);
  }

  /** Returns the old value. */
  compareExchangeWord(i: number, expected: number, value: number): number {
    this.clearWordTag(i << 2);
    const w = this.words;
    if (!this.exclusive) return Atomics.compareExchange(w, i, expected | 0, value | 0);
    const old = w[i]!;
    if (old === (expected | 0)) w[i] = value;
    return old;
  }

  /** Returns the old value. */
  addWord(i: number, delta: number): number {
    this.clearWordTag(i << 2);
    const w = this.words;
    if (!this.exclusive) return Atomics.add(w, i, delta | 0);
    const old = w[i]!;
    w[i] = old + delta;
    return old;
  }

  /** Returns the old value. */
  orWord(i: number, bits: number): number {
    this.clearWordTag(i << 2);
    const w = this.words;
    if (!this.exclusive) return Atomics.or(w, i, bits | 0);
    const old = w[i]!;
    w[i] = old | bits;
    return old;
  }

  /** Returns the old value. */
  andWord(i: number, bits: number): number {
    this.clearWordTag(i << 2);
    const w = this.words;
    if (!this.exclusive) return Atomics.and(w, i, bits | 0);
    const old = w[i]!;
    w[i] = old & bits;
    return old;
  }

  /** clearTags for one aligned word (the hot case: a protocol word written through a WordWindow). */
  clearWordTag(address: number): void {
    const g = address >>> 4;
    const bit = 1 << (g & 7);
    if ((this.#tags[g >>> 3]! & bit) !== 0) Atomics.and(this.#tags, g >>> 3, ~bit & 0xff);
  }

  /**
   * memmove of data. Short word-aligned moves go word by word: copyWithin's fixed cost is
   * about twice a 64-byte word loop, and small messages are the common case.
   */
  #move(dst: number, src: number, length: number): void {
    if (length > 256 || ((dst | src | length) & 3) !== 0) {
      this.bytes.copyWithin(dst, src, src + length);
      return;
    }
    const w = this.words;
    const d = dst >>> 2;
    const s = src >>> 2;
    const n = length >>> 2;
    if (d > s) {
      for (let i = n - 1; i >= 0; i--) w[d + i] = w[s + i]!;
      return;
    }
    // Four words a turn (a 64-byte message is four turns): the loop's own overhead cost more
    // than the copying — 16 words took about 23 ns one at a time, 14 ns four at a time.
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      w[d + i] = w[s + i]!;
      w[d + i + 1] = w[s + i + 1]!;
      w[d + i + 2] = w[s + i + 2]!;
      w[d + i + 3] = w[s + i + 3]!;
    }
    for (; i < n; i++) w[d + i] = w[s + i]!;
  }

  #setTag(address: number, tag: boolean): void {
    const g = address >>> 4;
    if (!tag) {
      Atomics.and(this.#tags, g >>> 3, ~(1 << (g & 7)) & 0xff);
      return;
    }
    // The tag, then its block's summary bit (the order clearTags relies on).
    Atomics.or(this.#tags, g >>> 3, 1 << (g & 7));
    const block = g >>> BLOCK_SHIFT;
    const bit = 1 << (block & 31);
    const summary = this.#summary;
    if (this.exclusive) summary[block >>> 5]! |= bit;
    else if ((Atomics.load(summary, block >>> 5) & bit) === 0) Atomics.or(summary, block >>> 5, bit);
  }

  /** Data write: copies bytes in and clears the tags it overlaps. */
  write(address: number, src: Uint8Array): void {
    this.clearTags(address, src.length);
    this.bytes.set(src, address);
  }

  /** Data read into `dst` (tags are not data and are not read). */
  read(address: number, length: number, dst: Uint8Array, dstOffset = 0): void {
    dst.set(this.bytes.subarray(address, address + length), dstOffset);
  }

  fill(address: number, length: number, value = 0): void {
    this.clearTags(address, length);
    this.bytes.fill(value, address, address + length);
  }

  /**
   * memmove inside memory. With `keepTags`, whole granules that are 16-byte aligned on both
   * sides carry their tag along (what a CLC/CSC loop does); every other destination granule
   * is cleared, as for any data write.
   */
  copy(dst: number, src: number, length: number, keepTags: boolean): void {
    if (length <= 0) return;
    if (!keepTags || ((dst | src) & 15) !== 0) {
      this.clearTags(dst, length);
      this.#move(dst, src, length);
      return;
    }
    const whole = length >>> 4;
    const srcTags: boolean[] = new Array<boolean>(whole);
    for (let i = 0; i < whole; i++) srcTags[i] = this.tagAt(src + i * GRANULE);
    this.#move(dst, src, length);
    this.clearTags(dst, length);
    for (let i = 0; i < whole; i++) if (srcTags[i]) this.#setTag(dst + i * GRANULE, true);
  }

  /** Capability write: all 16 bytes (memory form) and the granule's tag. Address 16-aligned. */
  writeCapability(address: number, bits: StoredCapabilityBits): void {
    this.#view.setBigUint64(address, bits.address & MASK64, true);
    this.#view.setBigUint64(address + 8, toMemoryPesbt(bits.pesbt), true);
    this.#setTag(address, bits.tag);
  }

  /** Capability read: the granule's bits in register form and its tag. Address 16-aligned. */
  readCapability(address: number): StoredCapabilityBits {
    return {
      tag: this.tagAt(address),
      address: this.#view.getBigUint64(address, true),
      pesbt: fromMemoryPesbt(this.#view.getBigUint64(address + 8, true)),
    };
  }

  /** Addresses of every tagged granule in [address, address+length): for sweeps and tools. */
  *taggedGranules(address = 0, length = this.size): Generator<number> {
    const end = Math.min(this.size, address + length);
    for (let a = address & ~15; a < end; a += GRANULE) {
      const g = a >>> 4;
      const byte = this.#tags[g >>> 3] ?? 0;
      if (byte === 0) {
        a = (((g >>> 3) + 1) << 7) - GRANULE;
        continue;
      }
      if ((byte & (1 << (g & 7))) !== 0) yield a;
    }
  }

  /**
   * Revoke [address, address+length) (granule-aligned): start a new revocation epoch for its
   * granules and sweep memory, clearing the tag of every stored capability whose base lies
   * inside. Returns how many stored capabilities were swept.
   */
  revoke(address: number, length: number): number {
    this.markRevoked(address, length);
    return this.sweep([[address, length]]);
  }

  /** The first half of revocation: capabilities held in registers stop working now. */
  markRevoked(address: number, length: number): void {
    this.revocation.mark(address >>> 4, (address + length + 15) >>> 4);
  }

  /**
   * The second half, for any number of regions at once (a quarantine's batch): one pass over
   * the tags, clearing every stored capability whose base lies in one of the regions.
   */
  sweep(regions: ReadonlyArray<readonly [address: number, length: number]>): number {
    if (regions.length === 0) return 0;
    const ranges = regions.map(([a, l]) => [BigInt((a >>> 4) * GRANULE), BigInt(((a + l + 15) >>> 4) * GRANULE)] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1));
    const inside = (base: bigint): boolean => {
      let lo = 0;
      let hi = ranges.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const [from, to] = ranges[mid]!;
        if (base < from) hi = mid - 1;
        else if (base >= to) lo = mid + 1;
        else return true;
      }
      return false;
    };
    let swept = 0;
    for (const a of this.taggedGranules()) {
      const bits = this.readCapability(a);
      if (inside(decodeBounds(bits.pesbt, bits.address).base)) {
        this.#setTag(a, false);
        swept++;
      }
    }
    for (const [a, l] of regions) this.revocation.swept(a >>> 4, (a + l + 15) >>> 4);
    return swept;
  }

  /** Clear one granule's tag (revocation). */
  clearTagAt(address: number): void {
    this.#setTag(address, false);
  }

  get view(): DataView {
    return this.#view;
  }
}
