/**
 * coproc_init and the microkernel session. `coprocInit(ctx)` finds coprocd by its registered
 * name, asks COPROC_INIT for the root namespace (WR) and the COINSERT/COSELECT/CODISCOVER
 * targets, and returns a session. A session is authority passed explicitly — no globals.
 *
 * Calls go to a worker target cached per thread and op: a thread's first call to an op looks
 * the op's coservice up in the root namespace ("COOPEN" …) and discovers a worker (round
 * robin, so concurrent threads spread over a daemon's pool), as libcomsg's ukern_call does.
 */
import * as E from 'fp-ts/lib/Either.js';
import { COSETUP_COCALL, sysError, type Capability, type CoProcessApi, type CoThreadApi, type SysError } from '@comsg/capmachine';
import { ARGS_SIZE, ukernCall, type AnyOpDecl, type ArgsOf, type CallError, type CallOptions, type ResultOf } from '@comsg/abi';
import { COPROC_INIT_NAME } from '@comsg/coprocd';
import { codiscover, codiscover2, coprocInit as coprocInitOp } from '@comsg/coprocd/protocol';
import { coselect } from '@comsg/namespaced/protocol';

export interface CoprocInitOptions {
  /** How long to wait for the microkernel to come up. Default 5000 ms. */
  readonly timeoutMs?: number;
}

/** A process's microkernel session. */
export class Ukern {
  readonly ctx: CoProcessApi;
  readonly root: Capability;
  readonly #boot: { COINSERT: Capability; COSELECT: Capability; CODISCOVER: Capability };
  /** Coservice handles found per op name (process-wide cache). */
  readonly #services = new Map<string, Capability>();
  /**
   * What libraries keep per session (libcomsg: the coport entries it has linked), each under
   * a symbol of its own. A plain object, so a library's hot path reads its state as a property.
   */
  readonly libraryState: { [library: symbol]: unknown } = {};
  readonly #threads = new WeakMap<CoThreadApi, UkernThread>();

  /** @internal use coprocInit */
  constructor(ctx: CoProcessApi, root: Capability, boot: { COINSERT: Capability; COSELECT: Capability; CODISCOVER: Capability }) {
    this.ctx = ctx;
    this.root = root;
    this.#boot = boot;
  }

  /** The session as seen from one thread (each thread caches its own worker targets). */
  on(thread: CoThreadApi = this.ctx.thread): E.Either<SysError, UkernThread> {
    const known = this.#threads.get(thread);
    if (known !== undefined) return E.right(known);
    const setup = thread.cosetup(COSETUP_COCALL);
    if (E.isLeft(setup)) return setup;
    const block = this.ctx.malloc(ARGS_SIZE);
    if (E.isLeft(block)) return block;
    const t = new UkernThread(this, thread, block.right, new Map(Object.entries(this.#boot)));
    this.#threads.set(thread, t);
    return E.right(t);
  }

  /** @internal */
  service(name: string): Capability | undefined {
    return this.#services.get(name);
  }
  /** @internal */
  forgetService(name: string): void {
    this.#services.delete(name);
  }
  /** @internal */
  rememberService(name: string, service: Capability): void {
    this.#services.set(name, service);
  }
}

export class UkernThread {
  /** @internal */
  constructor(
    readonly session: Ukern,
    readonly thread: CoThreadApi,
    readonly block: Capability,
    readonly targets: Map<string, Capability>,
  ) {}

  get root(): Capability {
    return this.session.root;
  }

  /** Make a microkernel call: typed arguments in, `Either<typed error, result>` out. */
  async call<D extends AnyOpDecl>(decl: D, args: ArgsOf<D>, options: CallOptions = {}): Promise<E.Either<CallError<D>, ResultOf<D>>> {
    const target = await this.#targetFor(decl.name);
    if (E.isLeft(target)) return target as E.Either<CallError<D>, never>;
    const r = await ukernCall(this.thread, this.session.ctx.machine, this.block, target.right, decl, args, options);
    // A worker that went away (daemon restarted): forget it, rediscover once.
    if (E.isLeft(r) && r.left._tag === 'ENOLINK') {
      this.targets.delete(decl.name);
      this.session.forgetService(decl.name);
      const again = await this.#targetFor(decl.name);
      if (E.isRight(again)) return ukernCall(this.thread, this.session.ctx.machine, this.block, again.right, decl, args, options);
    }
    return r;
  }

  async #targetFor(name: string): Promise<E.Either<SysError, Capability>> {
    const cached = this.targets.get(name);
    if (cached !== undefined) return E.right(cached);
    const m = this.session.ctx.machine;
    let service = this.session.service(name);
    let target: Capability;
    if (service === undefined) {
      const sel = this.targets.get('COSELECT');
      const dis = this.targets.get('CODISCOVER');
      if (sel === undefined || dis === undefined) return E.left(sysError('ENXIO', name, 'no COSELECT/CODISCOVER target'));
      const found = await ukernCall(this.thread, m, this.block, sel, coselect, { name: name as never, type: 'COSERVICE', ns: this.session.root });
      if (E.isLeft(found)) return E.left(sysError(found.left._tag === 'ENOENT' ? 'ENOSYS' : found.left._tag, name, `no ${name} service: ${found.left._tag}`));
      if (found.right.obj === undefined) return E.left(sysError('ENOSYS', name, `no ${name} service`));
      service = found.right.obj;
      const d = await ukernCall(this.thread, m, this.block, dis, codiscover, { service });
      if (E.isLeft(d)) return d;
      this.session.rememberService(name, service);
      target = d.right.target;
    } else {
      const dis = this.targets.get('CODISCOVER');
      if (dis === undefined) return E.left(sysError('ENXIO', name, 'no CODISCOVER target'));
      const d = await ukernCall(this.thread, m, this.block, dis, codiscover2, { service });
      if (E.isLeft(d)) return d;
      target = d.right.target;
    }
    this.targets.set(name, target);
    return E.right(target);
  }
}

/**
 * coproc_init: join the microkernel of this address space. Waits (bounded) for coprocd to
 * register COPROC_INIT; EAGAIN while it restarts is retried; ENXIO if it is down.
 */
export async function coprocInit(ctx: CoProcessApi, options: CoprocInitOptions = {}): Promise<E.Either<SysError, UkernThread>> {
  const timeout = options.timeoutMs ?? 5000;
  const start = ctx.now();
  const setup = ctx.thread.cosetup(COSETUP_COCALL);
  if (E.isLeft(setup)) return setup;
  const block = ctx.malloc(ARGS_SIZE);
  if (E.isLeft(block)) return block;
  for (;;) {
    const target = ctx.thread.colookup(COPROC_INIT_NAME);
    if (E.isRight(target)) {
      const r = await ukernCall(ctx.thread, ctx.machine, block.right, target.right, coprocInitOp, {}, { timeoutMs: timeout });
      if (E.isRight(r)) {
        const k = new Ukern(ctx, r.right.root, { COINSERT: r.right.coinsert, COSELECT: r.right.coselect, CODISCOVER: r.right.codiscover });
        return k.on(ctx.thread);
      }
      if (r.left._tag !== 'EAGAIN') return r;
    }
    if (ctx.now() - start >= timeout) return E.left(sysError('ETIMEDOUT', 'coproc_init', 'no microkernel answered'));
    await ctx.thread.sleep(1);
  }
}
