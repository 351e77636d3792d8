import type { MeshService } from '../../config/compile/mesh-service.ts';
import { isSpiffeId, type SpiffeId, workloadSpiffeId } from '../identity/spiffe-id.ts';

/**
 * The SPIFFE identities a destination service may present over ISTIO_MUTUAL: Istio's SAN list for
 * a cluster. That is the service account of every endpoint of the service (registered workloads,
 * WorkloadEntries, ServiceEntry endpoints), as `/ns/<namespace>/sa/<account>`, plus the SPIFFE IDs
 * among a ServiceEntry's `subjectAltNames`. Accounts are compared by path: the trust domain is
 * checked separately (the bundle's, or an alias), as the server's certificate is verified.
 *
 * A service none of whose endpoints names an account has an empty list; Istio then checks the
 * trust domain only, and so does Weft (`isAnyInTrustDomain`). A list given explicitly (a
 * DestinationRule's `subjectAltNames`) is never widened that way: if it names no SPIFFE ID, no
 * server is accepted.
 */
export class ServiceIdentities {
  readonly #paths: ReadonlySet<string>;
  readonly #uris: ReadonlySet<string>;
  /** The service names no identity: any SVID of an accepted trust domain is accepted (Istio). */
  readonly isAnyInTrustDomain: boolean;
  /** Sorted, for messages and for telling two lists apart (connection pools are keyed on it). */
  readonly fingerprint: string;

  constructor(paths: Iterable<string>, uris: Iterable<string>, isOpenWhenEmpty: boolean) {
    this.#paths = new Set(paths);
    this.#uris = new Set(uris);
    this.isAnyInTrustDomain = isOpenWhenEmpty && this.#paths.size === 0 && this.#uris.size === 0;
    this.fingerprint = this.isAnyInTrustDomain ? '*' : [...this.#paths, ...this.#uris].sort().join(',');
  }

  /** Whether a verified peer's SPIFFE ID is one the service runs as. */
  readonly allows = (id: SpiffeId): boolean =>
    this.isAnyInTrustDomain || this.#uris.has(id.uri) || this.#paths.has(id.path);

  /** The list as a message shows it. */
  describe(): string {
    if (this.isAnyInTrustDomain) return 'any identity of the trust domain';
    return this.fingerprint === '' ? 'no SPIFFE ID' : this.fingerprint.replaceAll(',', ', ');
  }
}

const cache = new WeakMap<MeshService, ServiceIdentities>();

/** A service's identities, computed once per service of a snapshot. */
export function serviceIdentities(service: MeshService): ServiceIdentities {
  let identities = cache.get(service);
  if (identities === undefined) {
    const paths: string[] = [];
    let namesAny = false;
    for (const endpoint of service.endpoints) {
      const account = endpoint.serviceAccount;
      if (account === undefined || account === '') continue;
      namesAny = true;
      const path = accountPath(endpoint.namespace, account);
      if (path !== undefined) paths.push(path);
    }
    // A ServiceEntry lists its identities as strings; only SPIFFE IDs can name a mesh identity.
    const named = service.origin === 'ServiceEntry' ? service.serviceAccounts : [];
    const uris = named.filter(isSpiffeId);
    // Open (trust domain only) only when nothing names an identity at all: a name that cannot be
    // an SVID's must not widen the list to "anyone".
    identities = new ServiceIdentities(paths, uris, !namesAny && named.length === 0);
    cache.set(service, identities);
  }
  return identities;
}

/** Identities given as full SPIFFE IDs (a DestinationRule's `subjectAltNames` under ISTIO_MUTUAL). */
export function explicitIdentities(uris: readonly string[]): ServiceIdentities {
  return new ServiceIdentities([], uris.filter(isSpiffeId), false);
}

/**
 * `/ns/<namespace>/sa/<account>`, or undefined for an account that is not one path segment: such
 * an account can be no SVID's (workloadSpiffeId refuses it), so it allows nothing. The trust
 * domain given is a placeholder; only the path is kept.
 */
function accountPath(namespace: string, serviceAccount: string): string | undefined {
  try {
    return workloadSpiffeId('placeholder.invalid', namespace, serviceAccount).path;
  } catch {
    return undefined;
  }
}
