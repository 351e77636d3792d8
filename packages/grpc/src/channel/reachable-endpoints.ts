import { endpointKey, type MeshSnapshot, type WorkloadView } from '@weft/core';
import { connectionId, endpointTransport } from '../security/endpoint-transport.ts';

/**
 * The resolution attribute that hands the balancer the channel's connections. grpc-js merges
 * resolution attributes into the options its balancer gets; the prefix keeps it out of subchannel
 * arguments.
 */
export const CONNECTIONS_ATTRIBUTE = 'grpc.internal.no_subchannel.weft.connections';

/** One connection a channel keeps: an endpoint, reached with one transport (endpoint-transport.ts). */
export interface ReachableConnection {
  /** What an attempt's endpoint hint names: the endpoint key, plus the transport key unless plaintext. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** `address:port`. */
  readonly endpoint: string;
  readonly transportKey: string;
}

/**
 * Every connection a call to `host:port` may be sent over: each endpoint of every cluster any route
 * of the host's table leads to (other subsets, other hosts a VirtualService sends it to), with the
 * transport that cluster's TLS settings give it. An endpoint two clusters reach with different
 * settings has two connections, as Envoy keeps a pool per cluster. The channel keeps a subchannel
 * for each, so whichever one a call's route and balancer choose is ready to use. Sorted by id, so
 * two results compare as lists.
 */
export function reachableConnections(
  view: WorkloadView,
  snapshot: MeshSnapshot,
  host: string,
  port: number,
  hasIdentity: boolean,
): ReachableConnection[] {
  const table = view.routeTable(host, port);
  const byId = new Map<string, ReachableConnection>();
  for (const route of table?.routes ?? []) {
    for (const destination of route.destinations) {
      const cluster = view.cluster(destination);
      if (cluster === undefined) continue;
      for (const endpoint of cluster.endpoints) {
        const key = endpointKey(endpoint.address, endpoint.port);
        const transport = endpointTransport(cluster, endpoint, snapshot, hasIdentity);
        const id = connectionId(key, transport);
        if (!byId.has(id)) {
          byId.set(id, {
            id,
            host: endpoint.address,
            port: endpoint.port,
            endpoint: key,
            transportKey: transport.key,
          });
        }
      }
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
