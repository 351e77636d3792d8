import type { WorkloadView } from '../config/compile/workload-view.ts';
import type { SecretSummary } from '../security/identity/identity-summary.ts';

/**
 * The summary of the compiled view a client sends with each ACK, for `weft proxy-config`: route
 * tables (host, port, routes and their weighted clusters) and the clusters they lead to (with
 * endpoint counts and the DestinationRules in force). Bounded: a mesh of thousands of hosts is
 * summarized by its first entries and marked truncated, so a report stays small.
 */
export interface ConfigDump {
  readonly revision: string;
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  readonly routeTables: readonly RouteTableSummary[];
  readonly clusters: readonly ClusterSummary[];
  /** Set when entries were left out to keep the report small. */
  readonly truncated?: true;
  /** The workload's SVID and trust bundle (`weft proxy-config secret`), when it has an identity. */
  readonly secret?: SecretSummary;
}

export interface RouteTableSummary {
  readonly host: string;
  readonly port: number;
  readonly routes: readonly {
    readonly name: string;
    readonly destinations: readonly { readonly cluster: string; readonly weight: number }[];
  }[];
}

export interface ClusterSummary {
  readonly name: string;
  readonly endpoints: number;
  readonly destinationRules: readonly string[];
  readonly missingSubset?: true;
}

const MAX_ROUTE_TABLES = 256;
const MAX_ROUTES_PER_TABLE = 64;
const MAX_CLUSTERS = 512;

export function summarizeView(view: WorkloadView, revision: string): ConfigDump {
  const routeTables: RouteTableSummary[] = [];
  const clusters = new Map<string, ClusterSummary>();
  let truncated = false;
  for (const table of view.routeTables()) {
    if (routeTables.length === MAX_ROUTE_TABLES) {
      truncated = true;
      break;
    }
    if (table.routes.length > MAX_ROUTES_PER_TABLE) truncated = true;
    const routes = table.routes.slice(0, MAX_ROUTES_PER_TABLE).map((route) => ({
      name: route.name,
      destinations: route.destinations.map((destination) => {
        if (!clusters.has(destination.clusterName)) {
          const cluster = clusters.size < MAX_CLUSTERS ? view.cluster(destination) : undefined;
          if (cluster === undefined) truncated ||= clusters.size >= MAX_CLUSTERS;
          else
            clusters.set(cluster.name, {
              name: cluster.name,
              endpoints: cluster.endpoints.length,
              destinationRules: cluster.destinationRules,
              ...(cluster.missingSubset === true ? { missingSubset: true as const } : {}),
            });
        }
        return { cluster: destination.clusterName, weight: destination.weight };
      }),
    }));
    routeTables.push({ host: table.host, port: table.port, routes });
  }
  return {
    revision,
    outboundTrafficPolicy: view.outboundTrafficPolicy,
    routeTables,
    clusters: [...clusters.values()],
    ...(truncated ? { truncated: true as const } : {}),
  };
}
