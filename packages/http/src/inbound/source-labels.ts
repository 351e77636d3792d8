import type { MeshSnapshot, PeerLabels } from '@weft/core';
import type { ConnectionFacts } from './connection-facts.ts';

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

/**
 * Istio's `source_*` labels of a verified caller. The namespace and principal come from its SPIFFE
 * ID; the workload, app and version from its registration, when the snapshot has exactly one
 * workload of that namespace and service account at the connection's address (Istio learns them
 * through its peer-metadata exchange, which Weft does not have). Anything else stays `unknown`.
 */
export function sourceLabels(snapshot: MeshSnapshot, facts: ConnectionFacts): PeerLabels | undefined {
  const peer = facts.peer;
  if (peer === undefined || facts.spiffeId === undefined) return undefined;
  if (facts.labelsSnapshot === snapshot && facts.labels !== undefined) return facts.labels;
  const namespace = peer.namespace ?? UNKNOWN;
  const known = indexOf(snapshot).get(
    keyOf(unmapped(facts.remoteAddress), namespace, peer.serviceAccount ?? ''),
  );
  const workload = known === undefined || known === AMBIGUOUS ? undefined : known;
  const labels: PeerLabels = {
    workload: workload?.name ?? UNKNOWN,
    namespace,
    principal: facts.spiffeId,
    app: workload?.app ?? UNKNOWN,
    version: workload?.version ?? UNKNOWN,
    cluster: UNKNOWN,
  };
  facts.labels = labels;
  facts.labelsSnapshot = snapshot;
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
  if (origin.startsWith('registry:') || origin.startsWith('WorkloadEntry/')) {
    const slash = origin.lastIndexOf('/');
    return slash === -1 ? undefined : origin.slice(slash + 1);
  }
  return undefined;
}

/** A dual-stack server reports IPv4 peers as `::ffff:10.1.2.3`; registrations say `10.1.2.3`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
