/**
 * A capability's 32-bit words with the capability checked once. Opening the window makes the
 * check every load and store through `cap` would make — tagged, unsealed, LOAD and STORE, not
 * revoked, backed by memory, word-aligned — for the whole range [address, top); each access
 * then only checks that its offset is a word inside that range.
 *
 * Why: a shared-memory protocol reads and writes a small record a dozen times per operation (a
 * coport's lock, indices, events and futex word), and the full check per word cost more than
 * the rest of the operation. Of that check only revocation can change for an immutable
 * capability, so code that keeps a window re-checks `isLive(window.cap)` before each operation
 * (or opens a new one); a window never outlives a wait.
 */
import { CapabilityFault, CapCause } from './fault.js';
import { checkAccess } from './access.js';
import type { Capability } from './capability.js';
import { Perm } from './perms.js';
import type { TaggedMemory } from './tagged-memory.js';

export class WordWindow {
  /** The capability the window was opened with (for APIs that take a capability, e.g. futexes). */
  readonly cap: Capability;
  readonly #memory: TaggedMemory;
  readonly #words: Int32Array;
  /** Absolute byte address of offset 0, and how many bytes the window covers. */
  readonly #at: number;
  readonly #bytes: number;
  /** Robust words made through this window, by word index within it (see `robust`). */
  readonly #robust: Array<RobustWord | undefined> = [];

  /** @internal Use `CapMachine.words`. */
  constructor(memory: TaggedMemory, cap: Capability) {
    const bytes = cap.topNumber - cap.addressNumber;
    const at = checkAccess(memory, cap, 0, Math.max(0, bytes), Perm.LOAD | Perm.STORE);
    if ((at & 3) !== 0) throw new CapabilityFault(CapCause.AddressMisaligned, 0, 'a word window must start 4-byte aligned');
    this.cap = cap;
    this.#memory = memory;
    this.#words = memory.words;
    this.#at = at;
    this.#bytes = bytes;
  }

  #index(offset: number): number {
    if ((offset & 3) !== 0 || offset < 0 || offset + 4 > this.#bytes) {
      throw new CapabilityFault(CapCause.LengthViolation, 0, `word at +${offset} outside a ${this.#bytes}-byte window`);
    }
    return (this.#at + offset) >>> 2;
  }

  /** The absolute address of the word at `offset` (runtimes record it for robust words and futexes). */
  address(offset: number): number {
    return this.#index(offset) << 2;
  }

  /**
   * A plain read, like the load it stands for (Atomics.load costs several times as much here).
   * Protocols that need ordering get it from the atomic writes below, or from `loadAtomic`.
   */
  load(offset: number): number {
    return this.#words[this.#index(offset)]!;
  }

  /**
   * A sequentially consistent read: for the one read in a protocol that must not be ordered
   * before the thread's own earlier write (a store-then-load handshake, as in Dekker's).
   */
  loadAtomic(offset: number): number {
    return this.#memory.loadWordAtomic(this.#index(offset));
  }

  /** A data write (sequentially consistent, so it can commit a copy): clears its granule's tag. */
  store(offset: number, value: number): void {
    this.#memory.storeWord(this.#index(offset), value);
  }

  /** Returns the old value. */
  compareExchange(offset: number, expected: number, value: number): number {
    return this.#memory.compareExchangeWord(this.#index(offset), expected, value);
  }

  /** Atomic bitwise OR; returns the old value. */
  or(offset: number, bits: number): number {
    return this.#memory.orWord(this.#index(offset), bits);
  }

  /** Atomic bitwise AND; returns the old value. */
  and(offset: number, bits: number): number {
    return this.#memory.andWord(this.#index(offset), bits);
  }

  /** Returns the old value. */
  add(offset: number, delta: number): number {
    return this.#memory.addWord(this.#index(offset), delta);
  }

  /**
   * The robust word at `offset` with its wake word at `wakeOffset` (robust-word.ts), both
   * checked now, for `CoThreadApi.robustEnterWord`. The window keeps the one it made for each
   * word, so a lock taken once per message registers without deriving two addresses each time.
   */
  robust(offset: number, wakeOffset: number): RobustWord {
    const k = offset >>> 2;
    const known = this.#robust[k];
    if (known !== undefined && known.wakeOffset === wakeOffset && known.offset === offset) return known;
    const made = new RobustWord(MINT, offset, wakeOffset, this.address(offset), this.address(wakeOffset));
    this.#robust[k] = made;
    return made;
  }
}

/** Only this module constructs RobustWords (a genuine one's addresses were checked). */
const MINT = Symbol('RobustWord');

/**
 * A robust word and its wake word, checked for LOAD and STORE when a WordWindow made it: what
 * a thread registers before it takes the word (`CoThreadApi.robustEnterWord`). Its addresses
 * are private, and the constructor refuses callers without this module's token, so one cannot
 * be forged to make a runtime roll back a word the thread could not write.
 */
export class RobustWord {
  readonly offset: number;
  readonly wakeOffset: number;
  readonly #word: number;
  readonly #wake: number;

  constructor(token: symbol, offset: number, wakeOffset: number, word: number, wake: number) {
    if (token !== MINT) throw new TypeError('RobustWord: made only by WordWindow.robust');
    this.offset = offset;
    this.wakeOffset = wakeOffset;
    this.#word = word;
    this.#wake = wake;
  }

  /** Absolute byte address of the word (a TypeError for anything but a genuine RobustWord). */
  static word(r: RobustWord): number {
    return r.#word;
  }

  /** Absolute byte address of its wake word. */
  static wake(r: RobustWord): number {
    return r.#wake;
  }
}

/**
 * The absolute address of an aligned word a thread names for a futex or a robust word: through
 * an open window (already checked), or a capability checked for LOAD and STORE now.
 */
export function wordAt(m: { wordAddress(cap: Capability, offset: number): number }, at: Capability | WordWindow, offset: number): number {
  return at instanceof WordWindow ? at.address(offset) : m.wordAddress(at, offset);
}

/** The address of a futex word to wake: through an open window, or a capability checked for LOAD now. */
export function wakeAddress(m: { loadI32(cap: Capability, offset: number): number }, at: Capability | WordWindow, offset: number): number {
  if (at instanceof WordWindow) return at.address(offset);
  m.loadI32(at, offset);
  return at.addressNumber + offset;
}
