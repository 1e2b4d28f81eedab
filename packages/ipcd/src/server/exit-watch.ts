/**
 * One exit notification per co-process, shared by everything ipcd cleans up after an exit
 * (the carrier messages it received, the ports it opened): each cleanup is registered once
 * per pid under its own name, and they all run, in registration order, when the pid exits —
 * unless ipcd itself has ended by then (inline, an exit can be observed after shutdown killed
 * ipcd; its memory is revoked and there is nothing left to clean).
 */
export class ExitWatch {
  readonly #exitOf: (pid: number) => Promise<unknown> | undefined;
  readonly #alive: () => boolean;
  readonly #pending = new Map<number, Map<string, () => void>>();

  constructor(exitOf: (pid: number) => Promise<unknown> | undefined, alive: () => boolean) {
    this.#exitOf = exitOf;
    this.#alive = alive;
  }

  /** Run `then` when `pid` exits, unless a cleanup named `what` is already registered for it. */
  once(pid: number, what: string, then: () => void): void {
    let cleanups = this.#pending.get(pid);
    if (cleanups === undefined) {
      const exited = this.#exitOf(pid);
      if (exited === undefined) return; // no such co-process: nothing will ever exit
      const fresh = new Map<string, () => void>();
      this.#pending.set(pid, fresh);
      void exited.then(() => {
        this.#pending.delete(pid);
        if (!this.#alive()) return;
        for (const f of fresh.values()) f();
      });
      cleanups = fresh;
    }
    if (!cleanups.has(what)) cleanups.set(what, then);
  }
}
