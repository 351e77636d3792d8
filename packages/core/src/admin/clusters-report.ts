import { endpointKey } from '../balancing/endpoint-key.ts';
import type { Cluster } from '../config/compile/cluster.ts';
import type { WorkloadView } from '../config/compile/workload-view.ts';
import type { ClusterRuntime } from '../mesh/cluster-runtime.ts';
import type { Locality } from '../registry/workload.ts';
import type { EndpointOutlierStatus } from '../resilience/outlier/outlier-detector.ts';

/** /clusters: every cluster this workload's routes lead to, with each endpoint's live state. */
export interface ClustersReport {
  readonly revision: string;
  readonly clusters: readonly ClusterReport[];
  /** Set when clusters or endpoints were left out to keep the answer small. */
  readonly truncated?: true;
}

export interface ClusterReport {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly subset?: string;
  readonly destinationRules: readonly string[];
  readonly missingSubset?: true;
  /** Whether a request has used the cluster yet (live state exists only from then on). */
  readonly isInUse: boolean;
  readonly loadBalancer?: string;
  /** Envoy's panic: too few healthy endpoints, so traffic goes to all of them. */
  readonly isPanic: boolean;
  readonly activeRequests: number;
  readonly pendingRequests: number;
  readonly activeRetries: number;
  readonly endpoints: readonly EndpointReport[];
}

export interface EndpointReport {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly origin: string;
  readonly locality?: Locality;
  /** `ejected` while outlier detection keeps it out of the rotation. */
  readonly health: 'healthy' | 'ejected';
  /** How much longer the ejection lasts at least, in ms. */
  readonly ejectedForMs?: number;
  readonly ejectionCount: number;
  readonly consecutive5xx: number;
  readonly consecutiveGatewayErrors: number;
  readonly consecutiveLocalOriginFailures: number;
  /** Requests sent to it and not yet ended, as the balancer counts them. */
  readonly activeRequests: number;
}

const MAX_CLUSTERS = 512;
const MAX_ENDPOINTS_PER_CLUSTER = 1024;

export function reportClusters(
  view: WorkloadView,
  runtimes: Iterable<ClusterRuntime>,
  revision: string,
  nowMs: number,
): ClustersReport {
  const live = new Map<string, ClusterRuntime>();
  for (const runtime of runtimes) live.set(runtime.name, runtime);
  const clusters = new Map<string, Cluster>();
  let truncated = false;
  for (const table of view.routeTables()) {
    for (const route of table.routes) {
      for (const destination of route.destinations) {
        if (clusters.has(destination.clusterName)) continue;
        if (clusters.size >= MAX_CLUSTERS) {
          truncated = true;
          continue;
        }
        const cluster = view.cluster(destination);
        if (cluster !== undefined) clusters.set(cluster.name, cluster);
      }
    }
  }
  // Clusters in use that the routes no longer lead to (a route changed) are still shown.
  for (const [name, runtime] of live) {
    if (!clusters.has(name) && clusters.size < MAX_CLUSTERS) clusters.set(name, runtime.cluster);
  }
  const reports = [...clusters.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((cluster) => {
      const report = reportCluster(cluster, live.get(cluster.name), nowMs);
      if (cluster.endpoints.length > MAX_ENDPOINTS_PER_CLUSTER) truncated = true;
      return report;
    });
  return { revision, clusters: reports, ...(truncated ? { truncated: true as const } : {}) };
}

function reportCluster(compiled: Cluster, runtime: ClusterRuntime | undefined, nowMs: number): ClusterReport {
  // The runtime holds the newest compile the requests brought; before any request, the view's.
  const cluster = runtime?.cluster ?? compiled;
  const outlier = new Map<string, EndpointOutlierStatus>();
  for (const status of runtime?.outlierDetector?.describe() ?? []) outlier.set(status.endpoint, status);
  const endpoints = cluster.endpoints.slice(0, MAX_ENDPOINTS_PER_CLUSTER).map((endpoint): EndpointReport => {
    const key = endpointKey(endpoint.address, endpoint.port);
    const status = outlier.get(key);
    const isEjected = status?.isEjected === true;
    return {
      address: endpoint.address,
      port: endpoint.port,
      weight: endpoint.weight,
      labels: endpoint.labels,
      origin: endpoint.origin,
      ...(endpoint.locality === undefined ? {} : { locality: endpoint.locality }),
      health: isEjected ? 'ejected' : 'healthy',
      ...(isEjected && status?.ejectedUntilMs !== undefined
        ? { ejectedForMs: Math.max(0, Math.round(status.ejectedUntilMs - nowMs)) }
        : {}),
      ejectionCount: status?.ejectionCount ?? 0,
      consecutive5xx: status?.consecutive5xx ?? 0,
      consecutiveGatewayErrors: status?.consecutiveGatewayErrors ?? 0,
      consecutiveLocalOriginFailures: status?.consecutiveLocalOriginFailures ?? 0,
      activeRequests: runtime?.balancer.endpointLoad?.(key)?.active ?? 0,
    };
  });
  return {
    name: cluster.name,
    host: cluster.host,
    port: cluster.port,
    ...(cluster.subset === undefined ? {} : { subset: cluster.subset }),
    destinationRules: cluster.destinationRules,
    ...(cluster.missingSubset === true ? { missingSubset: true as const } : {}),
    isInUse: runtime !== undefined,
    ...(runtime === undefined ? {} : { loadBalancer: runtime.balancer.name }),
    isPanic: runtime?.isPanic ?? false,
    activeRequests: runtime?.pool.activeRequests ?? 0,
    pendingRequests: runtime?.pool.pendingRequests ?? 0,
    activeRetries: runtime?.pool.activeRetries ?? 0,
    endpoints,
  };
}
