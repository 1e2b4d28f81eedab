/**
 * CapMachine: the capability instruction set bound to one tagged memory and one ISA mode.
 *
 * Holding the machine grants nothing by itself — like a CPU, it only executes instructions
 * on capabilities the caller already has. Authority comes from the root capabilities that
 * `boot` returns once, to whoever booted the machine (no module-level singletons).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as access from './access.js';
import { buildCap } from './build-cap.js';
import { Capability, almighty, rebirth } from './capability.js';
import { representableLength } from './cc128-math.js';
import * as derive from './derive.js';
import { CapCause, CapabilityFault } from './fault.js';
import { invoke, type InvokedPair } from './invoke.js';
import type { IsaMode } from './isa-mode.js';
import { Otype } from './otype.js';
import { PERMS_ALL, Perm, PermSet } from './perms.js';
import * as sealing from './seal.js';
import { TaggedMemory, type TaggedMemoryBuffers } from './tagged-memory.js';
import { ByteWindow } from './byte-window.js';
import { TypeManager } from './type-manager.js';
import { WordWindow } from './word-window.js';

export interface MachineOptions {
  /** Bytes of memory (multiple of 16); ignored when `buffers` are given. */
  readonly memoryBytes?: number;
  /** Attach to existing shared buffers (e.g. inside a worker thread). */
  readonly buffers?: TaggedMemoryBuffers;
  /** `v9` (default): bad manipulations clear the tag. `strict`: they trap (ISAv8 causes). */
  readonly mode?: IsaMode;
  /**
   * The memory is this JS thread's alone (TaggedMemory.exclusive): its buffers are never
   * handed to a worker, and atomic word operations are plain accesses. Not with `buffers`.
   */
  readonly exclusive?: boolean;
}

/** What booting a machine yields: the machine, its physical memory and the root authority. */
export interface BootedMachine {
  readonly machine: CapMachine;
  /** Physical memory — full authority; keep it in privileged code. */
  readonly memory: TaggedMemory;
  readonly roots: {
    /** Every permission over all of memory. */
    readonly memory: Capability;
    /** SEAL|UNSEAL over every software otype. */
    readonly sealing: Capability;
    /** The reset capability itself (bounds beyond memory): only for minting unbacked ranges. */
    readonly everything: Capability;
    /** Type managers for CheriBSD's kernel (0x20000…) and user (0…0x1FFFF) otype ranges. */
    readonly kernelTypes: TypeManager;
    readonly userTypes: TypeManager;
  };
}

/**
 * Code installed at an address: what CInvoke on a sealed (code, data) pair runs. It receives
 * the unsealed PCC and data capability — only invoked code ever sees the data unsealed.
 */
export type EntryCode = (pcc: Capability, data: Capability, arg: unknown) => unknown;

/** Bytes of text per installed entry. */
export const CODE_ENTRY_BYTES = 16;
/** Text needed for `count` entries (at least one granule). */
export const codeBytes = (count: number): number => Math.max(CODE_ENTRY_BYTES, count * CODE_ENTRY_BYTES);
/** Permissions of loaded code's text, and so of its entries. */
export const CODE_PERMS = Perm.GLOBAL | Perm.LOAD | Perm.EXECUTE | Perm.CINVOKE;

export class CapMachine {
  readonly mode: IsaMode;
  readonly #memory: TaggedMemory;
  /** Installed code by entry address (the machine's instruction memory, in JS). */
  readonly #code = new Map<number, EntryCode>();
  /** Bumped by every installCode (see cinvoke's memo). */
  #installs = 0;
  /** The last CInvoke that ran code, for a stream's repeats (see cinvoke). */
  #lastCInvoke: { readonly code: Capability; readonly data: Capability; readonly epoch: number; readonly installs: number; readonly pair: InvokedPair; readonly run: EntryCode } | undefined;
  /**
   * CInvoke results by data operand: unsealing is a pure function of the two operands and the
   * revocation epoch, and a client CInvokes the same (entry, handle) pair once per message, so
   * repeating it would only re-mint and re-decode the same capabilities.
   */
  readonly #invoked = new WeakMap<Capability, { readonly code: Capability; readonly epoch: number; readonly pair: InvokedPair }>();

  private constructor(memory: TaggedMemory, mode: IsaMode) {
    this.#memory = memory;
    this.mode = mode;
  }

  static boot(options: MachineOptions = {}): BootedMachine {
    const memory = new TaggedMemory(options.buffers ?? options.memoryBytes ?? 1 << 20, { exclusive: options.exclusive === true });
    const machine = new CapMachine(memory, options.mode ?? 'v9');
    const everything = almighty();
    const memRoot = derive.setBoundsExact(everything, BigInt(memory.size));
    if (!memRoot.tag) {
      const fit = representableLength(BigInt(memory.size));
      throw new RangeError(`memory size ${memory.size} is not exactly representable; use ${fit}`);
    }
    const sealRoot = derive.andPerm(derive.setBounds(everything, BigInt(Otype.UNSEALED) + 1n), PermSet.SEALCAP);
    const kernelRange = derive.setBounds(
      derive.setAddress(sealRoot, BigInt(Otype.KERNEL_MIN)),
      BigInt(Otype.UNSEALED + 1 - Otype.KERNEL_MIN),
    );
    const userRange = derive.setBounds(sealRoot, BigInt(Otype.USER_MAX + 1));
    return {
      machine,
      memory,
      roots: {
        memory: memRoot,
        sealing: sealRoot,
        everything,
        kernelTypes: new TypeManager(machine, kernelRange),
        userTypes: new TypeManager(machine, userRange),
      },
    };
  }

  get memorySize(): number {
    return this.#memory.size;
  }

  // ---- manipulation (mode-dependent) ----
  setAddress(cap: Capability, address: bigint): Capability {
    return this.#live(cap, derive.setAddress(cap, address, this.mode));
  }
  incOffset(cap: Capability, increment: bigint): Capability {
    return this.#live(cap, derive.incOffset(cap, increment, this.mode));
  }
  setOffset(cap: Capability, offset: bigint): Capability {
    return this.#live(cap, derive.setOffset(cap, offset, this.mode));
  }
  setBounds(cap: Capability, length: bigint): Capability {
    return this.#live(cap, derive.setBounds(cap, length, this.mode));
  }
  setBoundsExact(cap: Capability, length: bigint): Capability {
    return this.#live(cap, derive.setBoundsExact(cap, length, this.mode));
  }
  andPerm(cap: Capability, mask: number): Capability {
    return this.#live(cap, derive.andPerm(cap, mask, this.mode));
  }
  setFlags(cap: Capability, flags: number): Capability {
    return this.#live(cap, derive.setFlags(cap, flags, this.mode));
  }
  clearTag(cap: Capability): Capability {
    return derive.clearTag(cap);
  }
  seal(cap: Capability, sealer: Capability): Capability {
    return this.#live(cap, sealing.seal(cap, sealer, this.mode));
  }
  unseal(cap: Capability, unsealer: Capability): Capability {
    return this.#live(cap, sealing.unseal(cap, unsealer, this.mode));
  }
  conditionalSeal(cap: Capability, sealer: Capability): Capability {
    return this.#live(cap, sealing.conditionalSeal(cap, sealer, this.mode));
  }
  sealEntry(cap: Capability): Capability {
    return this.#live(cap, sealing.sealEntry(cap, this.mode));
  }
  copyType(cap: Capability, typed: Capability): Capability {
    return this.#live(cap, sealing.copyType(cap, typed, this.mode));
  }
  buildCap(auth: Capability, bits: Capability): Capability {
    return this.#live(auth, buildCap(auth, bits, this.mode));
  }
  invoke(code: Capability, data: Capability): InvokedPair {
    const epoch = this.#memory.revocation.epoch;
    const seen = Capability.is(data) ? this.#invoked.get(data) : undefined;
    // Another copy of the same entry (each co-process fetches its own) hits too, if it was born
    // no earlier: with no revocation since (same epoch), it is then as live as the cached one.
    if (seen !== undefined && seen.epoch === epoch && (seen.code === code || (Capability.is(code) && code.birth >= seen.code.birth && seen.code.equalsExact(code)))) return seen.pair;
    const raw = invoke(code, data);
    const pair = Object.freeze({ pcc: this.#live(code, raw.pcc), data: this.#live(data, raw.data) });
    this.#invoked.set(data, { code, epoch, pair });
    return pair;
  }

  /**
   * Place `code` at the base of `text` (a live, unsealed EXECUTE capability): CInvoke of a
   * code capability whose address is that base runs it.
   */
  installCode(text: Capability, code: EntryCode): void {
    if (!Capability.is(text) || !this.isLive(text)) throw new CapabilityFault(CapCause.TagViolation, 0, 'code capability is not live');
    if (text.sealed) throw new CapabilityFault(CapCause.SealViolation, 0, 'code capability is sealed');
    if (!text.has(Perm.EXECUTE)) throw new CapabilityFault(CapCause.PermitExecuteViolation, 0, 'code capability lacks EXECUTE');
    if (text.top > BigInt(this.#memory.size)) throw new CapabilityFault(CapCause.AccessFault, 0, 'code must live in memory');
    this.#code.set(text.baseNumber, code);
    this.#installs++;
  }

  /**
   * Install one function per name, 16 bytes apart from the base of `text` (see `codeBytes`):
   * the entries come back as capabilities with `text`'s permissions, each bounded to its 16 bytes.
   */
  installEntries<K extends string>(text: Capability, names: readonly K[], code: Readonly<Record<K, EntryCode>>): Record<K, Capability> {
    const out = {} as Record<K, Capability>;
    names.forEach((name, i) => {
      const entry = this.restrict(text, BigInt(i * CODE_ENTRY_BYTES), BigInt(CODE_ENTRY_BYTES), text.perms);
      this.installCode(entry, code[name]);
      out[name] = entry;
    });
    return out;
  }

  /** Whether code is installed at `address` in this machine (threads link code per worker). */
  hasCode(address: number): boolean {
    return this.#code.has(address);
  }

  /**
   * CInvoke and run: unseal the pair (all of CInvoke's checks) and call the code installed at
   * the entry address with the unsealed data capability and `arg`; returns what it returns.
   */
  cinvoke(code: Capability, data: Capability, arg?: unknown): unknown {
    // A stream CInvokes one (code, data) pair over and over: the same two objects, with no
    // revocation and no code installed since, run the same code on the same unsealed pair.
    const last = this.#lastCInvoke;
    if (last !== undefined && last.code === code && last.data === data && last.epoch === this.#memory.revocation.epoch && last.installs === this.#installs) {
      return last.run(last.pair.pcc, last.pair.data, arg);
    }
    const pair = this.invoke(code, data);
    if (!pair.pcc.tag || !pair.data.tag) throw new CapabilityFault(CapCause.TagViolation, pair.pcc.tag ? 1 : 0, 'revoked operand');
    const run = this.#code.get(pair.pcc.addressNumber);
    if (run === undefined) throw new CapabilityFault(CapCause.AccessFault, 0, 'no code installed at the entry address');
    this.#lastCInvoke = { code, data, epoch: this.#memory.revocation.epoch, installs: this.#installs, pair, run };
    return run(pair.pcc, pair.data, arg);
  }

  /**
   * Atomic compare-and-swap of a 32-bit word (needs LOAD and STORE): the synchronisation
   * primitive shared-memory protocols build their locks from. Returns the old value.
   */
  compareExchangeI32(auth: Capability, offset: number, expected: number, value: number): number {
    const addr = access.checkAccess(this.#memory, auth, offset, 4, Perm.LOAD | Perm.STORE);
    if ((addr & 3) !== 0) throw new CapabilityFault(CapCause.AddressMisaligned, 0, 'atomic access must be 4-byte aligned');
    return this.#memory.compareExchangeWord(addr >>> 2, expected, value);
  }

  /**
   * The words of [cap.address, cap.top) with LOAD and STORE checked once, for one operation's
   * many accesses to a small shared record (see WordWindow). Traps as a load would.
   */
  words(cap: Capability): WordWindow {
    return new WordWindow(this.#memory, cap);
  }

  /**
   * The bytes of [cap.address, cap.top) with LOAD and STORE checked once, for data copies
   * in and out of a long-lived buffer (see ByteWindow). Traps as an access would.
   */
  bytes(cap: Capability): ByteWindow {
    return new ByteWindow(this.#memory, cap);
  }

  /**
   * The absolute address of the aligned 32-bit word at auth+offset, after checking LOAD and
   * STORE on it: runtimes record it for work done later on the thread's behalf (robust words).
   */
  wordAddress(auth: Capability, offset: number): number {
    const addr = access.checkAccess(this.#memory, auth, offset, 4, Perm.LOAD | Perm.STORE);
    if ((addr & 3) !== 0) throw new CapabilityFault(CapCause.AddressMisaligned, 0, 'a word must be 4-byte aligned');
    return addr;
  }

  /**
   * Atomic fetch-and-add of a 32-bit word (needs LOAD and STORE); returns the old value.
   * Futex words are bumped with it, so a waker's store is ordered before its check for sleepers.
   */
  fetchAddI32(auth: Capability, offset: number, delta: number): number {
    const addr = access.checkAccess(this.#memory, auth, offset, 4, Perm.LOAD | Perm.STORE);
    if ((addr & 3) !== 0) throw new CapabilityFault(CapCause.AddressMisaligned, 0, 'atomic access must be 4-byte aligned');
    return this.#memory.addWord(addr >>> 2, delta);
  }

  /**
   * Revoke a region: `region` (tagged, unsealed, with STORE, granule-aligned bounds) names
   * memory being freed. Every capability whose base lies inside — in memory or held by any
   * thread, including `region` itself — stops working. Returns the number of stored
   * capabilities the sweep cleared.
   */
  revoke(region: Capability): number {
    return this.#memory.revoke(this.#revocable(region), Number(region.length));
  }

  /**
   * Quarantine-style revocation, first half: every capability to `region` held in a register
   * stops working now; stored ones are cleared by a later `sweepRevoked`. The caller must not
   * reuse the region before that sweep (a quarantine holds it).
   */
  markRevoked(region: Capability): void {
    this.#memory.markRevoked(this.#revocable(region), Number(region.length));
  }

  /** Second half: one sweep of memory for every region already marked. Returns caps cleared. */
  sweepRevoked(regions: readonly Capability[]): number {
    return this.#memory.sweep(regions.map((r) => [r.baseNumber, Number(r.length)] as const));
  }

  #revocable(region: Capability): number {
    const addr = access.checkAccess(this.#memory, region, Number(region.base - region.address), Number(region.length), Perm.STORE);
    if ((addr & 15) !== 0 || Number(region.length) % 16 !== 0) {
      throw new CapabilityFault(CapCause.UnalignedBase, 0, 'revocation regions must be 16-byte aligned');
    }
    return addr;
  }

  /** True when `cap` is tagged and has not been revoked. */
  isLive(cap: Capability): boolean {
    return cap.tag && !this.#memory.revocation.isRevoked(cap);
  }

  /** Results derived from revoked authority are untagged; from live authority, born now. */
  #live(parent: Capability, result: Capability): Capability {
    const r = this.#memory.revocation;
    const now = r.epoch;
    if (now === 0 || !result.tag) return result;
    if (r.isRevoked(parent)) return derive.clearTag(result);
    return result.birth < now ? rebirth(result, now) : result;
  }

  /** Convenience: address, bounds (exact) and perms in one step, for carving out regions. */
  restrict(cap: Capability, offset: bigint, length: bigint, perms = PERMS_ALL): Capability {
    const at = this.setAddress(cap, cap.address + offset);
    return this.andPerm(this.setBoundsExact(at, length), perms);
  }

  // ---- memory access (always traps on a violation) ----
  load(auth: Capability, offset: number, length: number, into?: Uint8Array, intoOffset = 0): Uint8Array {
    const dst = into ?? new Uint8Array(length);
    access.loadBytes(this.#memory, auth, offset, length, dst, intoOffset);
    return dst;
  }
  store(auth: Capability, offset: number, bytes: Uint8Array): void {
    access.storeBytes(this.#memory, auth, offset, bytes);
  }
  loadCap(auth: Capability, offset = 0): Capability {
    return access.loadCapability(this.#memory, auth, offset);
  }
  storeCap(auth: Capability, offset: number, value: Capability): void {
    access.storeCapability(this.#memory, auth, offset, value);
  }
  /** Capability-aware memcpy (tags of aligned whole granules travel unless `stripTags`). */
  copy(dst: Capability, dstOffset: number, src: Capability, srcOffset: number, length: number, stripTags = false): void {
    access.copyBytes(this.#memory, dst, dstOffset, src, srcOffset, length, stripTags);
  }
  loadU32(auth: Capability, offset: number): number {
    return access.loadU32(this.#memory, auth, offset);
  }
  loadI32(auth: Capability, offset: number): number {
    return access.loadI32(this.#memory, auth, offset);
  }
  loadU64(auth: Capability, offset: number): bigint {
    return access.loadU64(this.#memory, auth, offset);
  }
  storeU32(auth: Capability, offset: number, value: number): void {
    access.storeU32(this.#memory, auth, offset, value);
  }
  storeI32(auth: Capability, offset: number, value: number): void {
    access.storeI32(this.#memory, auth, offset, value);
  }
  storeU64(auth: Capability, offset: number, value: bigint): void {
    access.storeU64(this.#memory, auth, offset, value);
  }

  /** Run instructions and return a fault as a value instead of a trap. */
  attempt<T>(f: (m: CapMachine) => T): E.Either<CapabilityFault, T> {
    try {
      return E.right(f(this));
    } catch (e) {
      if (e instanceof CapabilityFault) return E.left(e);
      throw e;
    }
  }
}
