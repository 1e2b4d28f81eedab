import * as E from 'fp-ts/lib/Either.js';
import { sysError, type Capability, type CapMachine } from '@comsg/capmachine';
import { bind, type OpBinding } from '@comsg/abi';
import { COSERVICE_MAX_WORKERS, coprovide } from '../protocol/coservices.js';
import type { CoserviceTable } from './table.js';

/**
 * coprovide: copy the worker targets out of the provider's array (each must be a tagged,
 * sealed target) into a new endpoint. Fixes comsg: a full table is ENOSPC, not a crash.
 */
export function serveCoprovide(m: CapMachine, table: CoserviceTable): OpBinding {
  return bind(coprovide, ({ workers, count, flags, op }) => {
    if (!Number.isInteger(count) || count <= 0 || count > COSERVICE_MAX_WORKERS) {
      return E.left(sysError('EINVAL', 'COPROVIDE', `worker count ${count} outside 1..${COSERVICE_MAX_WORKERS}`));
    }
    const targets: Capability[] = [];
    for (let i = 0; i < count; i++) {
      const got = m.attempt((mm) => mm.loadCap(workers, i * 16));
      if (E.isLeft(got)) return E.left(sysError('EINVAL', 'COPROVIDE', `cannot read worker ${i}: ${got.left.causeName}`));
      if (!got.right.tag || !got.right.sealed) return E.left(sysError('EINVAL', 'COPROVIDE', `worker ${i} is not a target`));
      targets.push(got.right);
    }
    const endpoint = table.addEndpoint(targets);
    if (endpoint === undefined) return E.left(sysError('ENOSPC', 'COPROVIDE', 'endpoint table full'));
    const service = table.addService(endpoint, op, flags);
    if (service === undefined) {
      table.endpoints.release(endpoint);
      return E.left(sysError('ENOSPC', 'COPROVIDE', 'coservice table full'));
    }
    return E.right({ service: table.serviceHandle(service), endpoint: table.endpointHandle(endpoint) });
  });
}
