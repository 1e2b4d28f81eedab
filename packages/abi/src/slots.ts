/**
 * A fixed-capacity table whose slots are recycled with generation numbers: a freed slot's
 * generation moves on, so a handle naming (slot, old generation) never matches again. A slot
 * whose generations run out is retired rather than reused.
 */
export const SLOT_LIMIT = 1 << 17;
export const GENERATION_LIMIT = 1 << 20;

export class SlotTable<T extends { readonly slot: number; readonly gen: number }> {
  readonly #live = new Map<number, T>();
  readonly #gens: number[] = [];
  readonly #free: number[] = [];
  #next = 0;
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#live.size;
  }
  /** A free slot and its current generation, or undefined when full. */
  claim(): { slot: number; gen: number } | undefined {
    if (this.#live.size >= this.capacity) return undefined;
    // Slot numbers stay below the capacity (tables index records by slot); retired slots are gone.
    const slot = this.#free.pop() ?? (this.#next < Math.min(SLOT_LIMIT, this.capacity) ? this.#next++ : undefined);
    if (slot === undefined) return undefined;
    return { slot, gen: this.#gens[slot] ?? 0 };
  }
  put(entry: T): void {
    this.#live.set(entry.slot, entry);
  }
  get(slot: number, gen: number): T | undefined {
    const e = this.#live.get(slot);
    return e !== undefined && e.gen === gen ? e : undefined;
  }
  release(entry: T): void {
    if (this.#live.get(entry.slot) !== entry) return;
    this.#live.delete(entry.slot);
    const gen = entry.gen + 1;
    this.#gens[entry.slot] = gen;
    if (gen < GENERATION_LIMIT) this.#free.push(entry.slot);
  }
  values(): IterableIterator<T> {
    return this.#live.values();
  }
}
