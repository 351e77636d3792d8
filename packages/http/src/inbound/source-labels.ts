import { callerLabels, type MeshSnapshot, type PeerLabels } from '@weft/core';
import type { ConnectionFacts } from './connection-facts.ts';

/**
 * Istio's `source_*` labels of a verified caller (core's callerLabels), kept on the connection's
 * facts per snapshot; undefined for a caller without a verified identity.
 */
export function sourceLabels(snapshot: MeshSnapshot, facts: ConnectionFacts): PeerLabels | undefined {
  const peer = facts.peer;
  if (peer === undefined || facts.spiffeId === undefined) return undefined;
  if (facts.labelsSnapshot === snapshot && facts.labels !== undefined) return facts.labels;
  const labels = callerLabels(snapshot, {
    spiffeId: facts.spiffeId,
    namespace: peer.namespace,
    serviceAccount: peer.serviceAccount,
    remoteAddress: facts.remoteAddress,
  });
  facts.labels = labels;
  facts.labelsSnapshot = snapshot;
  return labels;
}
