import type { MeshSnapshot } from '../config/compile/mesh-snapshot.ts';
import type { PeerLabels } from './istio-labels.ts';

const UNKNOWN = 'unknown';

/** A registered workload, as Istio's source labels name it. */
interface KnownWorkload {
  readonly name: string;
  readonly app: string;
  readonly version: string;
}

/** Several workloads answer to one key: none of them can be named. */
const AMBIGUOUS = 'ambiguous';

const indexes = new WeakMap<MeshSnapshot, Map<string, KnownWorkload | typeof AMBIGUOUS>>();

/** A caller that proved its identity over mTLS, as an inbound adapter knows it. */
export interface VerifiedCaller {
  readonly spiffeId: string;
  readonly namespace: string | undefined;
  readonly serviceAccount: string | undefined;
  /** The connection's remote address, as the socket reports it. */
  readonly remoteAddress: string;
}

/**
 * Istio's `source_*` labels of a verified caller, for every inbound adapter (HTTP, gRPC). The
 * namespace and principal come from its SPIFFE ID; the workload, app and version from its
 * registration, when the snapshot has exactly one workload of that namespace and service account
 * at the connection's address (Istio learns them through its peer-metadata exchange, which Weft
 * does not have). Anything else stays `unknown`. Adapters cache the result per connection and
 * snapshot; the index of registered workloads is built once per snapshot.
 */
export function callerLabels(snapshot: MeshSnapshot, caller: VerifiedCaller): PeerLabels {
  const namespace = caller.namespace ?? UNKNOWN;
  const known = indexOf(snapshot).get(
    keyOf(unmapped(caller.remoteAddress), namespace, caller.serviceAccount ?? ''),
  );
  const workload = known === undefined || known === AMBIGUOUS ? undefined : known;
  return {
    workload: workload?.name ?? UNKNOWN,
    namespace,
    principal: caller.spiffeId,
    app: workload?.app ?? UNKNOWN,
    version: workload?.version ?? UNKNOWN,
    cluster: UNKNOWN,
  };
}

function indexOf(snapshot: MeshSnapshot): Map<string, KnownWorkload | typeof AMBIGUOUS> {
  let index = indexes.get(snapshot);
  if (index !== undefined) return index;
  index = new Map();
  for (const service of snapshot.services.values()) {
    for (const endpoint of service.endpoints) {
      const name = registeredName(endpoint.origin);
      if (name === undefined || endpoint.serviceAccount === undefined) continue;
      const key = keyOf(endpoint.address, endpoint.namespace, endpoint.serviceAccount);
      const existing = index.get(key);
      if (existing === undefined) {
        index.set(key, {
          name,
          app: endpoint.labels.app ?? UNKNOWN,
          version: endpoint.labels.version ?? UNKNOWN,
        });
      } else if (existing === AMBIGUOUS || existing.name !== name) {
        index.set(key, AMBIGUOUS);
      }
    }
  }
  indexes.set(snapshot, index);
  return index;
}

function keyOf(address: string, namespace: string, serviceAccount: string): string {
  return `${address}|${namespace}|${serviceAccount}`;
}

/** `registry:<ns>/<name>` and `WorkloadEntry/<ns>/<name>` name a workload; a ServiceEntry address does not. */
function registeredName(origin: string): string | undefined {
  if (!origin.startsWith('registry:') && !origin.startsWith('WorkloadEntry/')) return undefined;
  const slash = origin.lastIndexOf('/');
  return slash === -1 ? undefined : origin.slice(slash + 1);
}

/** A dual-stack server reports IPv4 peers as `::ffff:10.1.2.3`; registrations say `10.1.2.3`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
