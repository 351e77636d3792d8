/**
 * The port a gateway workload serves, as its Gateway resources declare it (bookinfo-gateway.yaml:
 * 8080): the port its VirtualServices' `port` matches and destinations see, whatever TCP port the
 * process really listens on.
 */
import type { Mesh } from '@weft/core';

/** Gateway servers' protocols this ingress serves: plain HTTP only, for now (TLS is later work). */
const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2']);

export function gatewayServerPort(mesh: Mesh): number | undefined {
  const selected = mesh.outbound.gateways;
  for (const gateway of mesh.snapshot.resources.Gateway) {
    if (!selected.has(`${gateway.metadata.namespace}/${gateway.metadata.name}`)) continue;
    const server = gateway.spec.servers.find((candidate) =>
      HTTP_PROTOCOLS.has(candidate.port.protocol.toUpperCase()),
    );
    if (server !== undefined) return server.port.number;
  }
  return undefined;
}
