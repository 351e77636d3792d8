import { type ClusterEndpoint, endpointKey, type WorkloadView } from '@weft/core';

/**
 * Every endpoint a call to `host:port` may be sent to: the endpoints of every cluster any route
 * of the host's table leads to (other subsets, other hosts a VirtualService sends it to). The
 * channel keeps a subchannel for each, so whichever one a call's route and balancer choose is
 * ready to use. Sorted by key, so two results compare as lists.
 */
export function reachableEndpoints(view: WorkloadView, host: string, port: number): ClusterEndpoint[] {
  const table = view.routeTable(host, port);
  const byKey = new Map<string, ClusterEndpoint>();
  for (const route of table?.routes ?? []) {
    for (const destination of route.destinations) {
      const cluster = view.cluster(destination);
      for (const endpoint of cluster?.endpoints ?? []) {
        const key = endpointKey(endpoint.address, endpoint.port);
        if (!byKey.has(key)) byKey.set(key, endpoint);
      }
    }
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, endpoint]) => endpoint);
}
