import { callerLabels, type MeshSnapshot, type PeerLabels } from '@weft/core';
import type { VerifiedConnection } from './connection-peers.ts';

const labelled = new WeakMap<VerifiedConnection, { snapshot: MeshSnapshot; labels: PeerLabels }>();

/**
 * Istio's `source_*` labels of a caller that proved its identity over mTLS (core's callerLabels),
 * worked out once per connection and snapshot.
 */
export function sourceLabels(
  snapshot: MeshSnapshot,
  connection: VerifiedConnection,
  remoteAddress: string,
): PeerLabels {
  const cached = labelled.get(connection);
  if (cached?.snapshot === snapshot) return cached.labels;
  const labels = callerLabels(snapshot, {
    spiffeId: connection.spiffeId,
    namespace: connection.identity?.namespace,
    serviceAccount: connection.identity?.serviceAccount,
    remoteAddress,
  });
  labelled.set(connection, { snapshot, labels });
  return labels;
}
