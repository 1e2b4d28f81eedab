/**
 * coserviced's state: endpoints (worker pools) and coservices (op + flags on an endpoint),
 * in generation-slot tables, with sealed token handles. Worker selection is a fair round
 * robin: each worker once per cycle (comsg handed out worker 0 twice per cycle).
 */
import { Perm, type Capability, type CapMachine } from '@comsg/capmachine';
import { SlotTable, TokenMint } from '@comsg/abi';

export interface Endpoint {
  readonly slot: number;
  readonly gen: number;
  readonly targets: readonly Capability[];
  next: number;
}

export interface Coservice {
  readonly slot: number;
  readonly gen: number;
  readonly endpoint: Endpoint;
  readonly op: number;
  readonly flags: number;
}

export interface CoservicedKeys {
  /** SEAL|UNSEAL over two otypes: coservice handles, endpoint handles. */
  readonly types: Capability;
  readonly tokens: Capability;
}

/** Handles are local (no GLOBAL) so they can be inserted into namespaces. */
const HANDLE_PERMS = Perm.LOAD | Perm.LOAD_CAP;

export class CoserviceTable {
  readonly endpoints: SlotTable<Endpoint>;
  readonly services: SlotTable<Coservice>;
  readonly #serviceMint: TokenMint;
  readonly #endpointMint: TokenMint;

  constructor(m: CapMachine, keys: CoservicedKeys, limits = { endpoints: 256, services: 256 }) {
    this.endpoints = new SlotTable(limits.endpoints);
    this.services = new SlotTable(limits.services);
    [this.#serviceMint, this.#endpointMint] = TokenMint.family(m, keys.types, keys.tokens, 2) as [TokenMint, TokenMint];
  }

  serviceHandle(s: Coservice): Capability {
    return this.#serviceMint.mint(s.slot, s.gen, HANDLE_PERMS);
  }
  endpointHandle(e: Endpoint): Capability {
    return this.#endpointMint.mint(e.slot, e.gen, HANDLE_PERMS);
  }
  openService(cap: unknown): Coservice | undefined {
    const t = this.#serviceMint.open(cap);
    return t === undefined ? undefined : this.services.get(t.slot, t.gen);
  }
  openEndpoint(cap: unknown): Endpoint | undefined {
    const t = this.#endpointMint.open(cap);
    return t === undefined ? undefined : this.endpoints.get(t.slot, t.gen);
  }

  addEndpoint(targets: readonly Capability[]): Endpoint | undefined {
    const at = this.endpoints.claim();
    if (at === undefined) return undefined;
    const e: Endpoint = { ...at, targets: Object.freeze([...targets]), next: 0 };
    this.endpoints.put(e);
    return e;
  }

  addService(endpoint: Endpoint, op: number, flags: number): Coservice | undefined {
    const at = this.services.claim();
    if (at === undefined) return undefined;
    const s: Coservice = { ...at, endpoint, op, flags };
    this.services.put(s);
    return s;
  }

  /** Invariant checker: services name live endpoints; endpoints hold tagged targets; cursors in range. */
  check(): string[] {
    const problems: string[] = [];
    for (const s of this.services.values()) {
      if (this.endpoints.get(s.endpoint.slot, s.endpoint.gen) !== s.endpoint) problems.push(`service ${s.slot}: endpoint is not live`);
    }
    for (const e of this.endpoints.values()) {
      if (e.targets.length === 0) problems.push(`endpoint ${e.slot}: no targets`);
      if (e.targets.some((t) => !t.tag || !t.sealed)) problems.push(`endpoint ${e.slot}: a target is not a sealed capability`);
      if (e.next < 0 || e.next >= Math.max(1, e.targets.length)) problems.push(`endpoint ${e.slot}: round-robin cursor out of range`);
    }
    return problems;
  }

  /** The next worker, each once per cycle. */
  pick(e: Endpoint): Capability {
    const t = e.targets[e.next]!;
    e.next = (e.next + 1) % e.targets.length;
    return t;
  }
}
