import type { MeshSnapshot, PeerLabels } from '@weft/core';
import type { VerifiedConnection } from './connection-peers.ts';

const UNKNOWN = 'unknown';

/** Several registered workloads answer to one key: none of them can be named. */
const AMBIGUOUS = 'ambiguous';

interface KnownWorkload {
  readonly name: string;
  readonly app: string;
  readonly version: string;
}

const indexes = new WeakMap<MeshSnapshot, Map<string, KnownWorkload | typeof AMBIGUOUS>>();
const labelled = new WeakMap<VerifiedConnection, { snapshot: MeshSnapshot; labels: PeerLabels }>();

/**
 * Istio's `source_*` labels of a caller that proved its identity over mTLS: namespace and principal
 * from its SPIFFE ID; workload, app and version from its registration when the snapshot has exactly
 * one workload of that namespace and service account at the connection's address (Istio learns
 * them through its peer-metadata exchange, which Weft has not). Anything else stays `unknown`.
 * Worked out once per connection and snapshot.
 */
export function sourceLabels(
  snapshot: MeshSnapshot,
  connection: VerifiedConnection,
  remoteAddress: string,
): PeerLabels {
  const cached = labelled.get(connection);
  if (cached?.snapshot === snapshot) return cached.labels;
  const namespace = connection.identity?.namespace ?? UNKNOWN;
  const known = indexOf(snapshot).get(
    keyOf(unmapped(remoteAddress), namespace, connection.identity?.serviceAccount ?? ''),
  );
  const workload = known === undefined || known === AMBIGUOUS ? undefined : known;
  const labels: PeerLabels = {
    workload: workload?.name ?? UNKNOWN,
    namespace,
    principal: connection.spiffeId,
    app: workload?.app ?? UNKNOWN,
    version: workload?.version ?? UNKNOWN,
    cluster: UNKNOWN,
  };
  labelled.set(connection, { snapshot, labels });
  return labels;
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
