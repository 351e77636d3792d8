import { EDGE_LATENCY_BUCKETS, type RegisteredWorkload, toFqdn } from '@weft/core';
import { type EdgeSource, isUnknownSource, type MergedEdge } from './edge-registry.ts';
import { latencyQuantileMs } from './latency-quantile.ts';

/** A box on the graph: a service at one version (subset), or a workload that serves no service. */
export interface GraphNode {
  readonly id: string;
  /**
   * `service`: a registered service; `workload`: a caller that serves none (a gateway);
   * `external`: a host outside the registry; `unknown`: callers nobody can name (outside the mesh,
   * reported by their destinations; one node for all of them, id UNKNOWN_NODE_ID).
   */
  readonly kind: 'service' | 'workload' | 'external' | 'unknown';
  /** The FQDN for services and external hosts; the workload name otherwise. */
  readonly host: string;
  /** Short name to show. */
  readonly name: string;
  readonly namespace: string;
  /** The endpoints' `version` label; null for requests that reached no endpoint, and for workloads. */
  readonly version: string | null;
  /** Registered workloads behind it. */
  readonly workloads: readonly string[];
}

/** An arrow between two boxes: every edge between them over the window, added up. */
export interface GraphEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly subsets: readonly string[];
  readonly protocols: readonly string[];
  /** Who counted its requests: the callers (`source`), the destination (`destination`), or both kinds of edge. */
  readonly reportedBy: readonly ('source' | 'destination')[];
  readonly requests: number;
  readonly errors: number;
  readonly requestsPerSecond: number;
  readonly errorRate: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** `all` requests over mutual TLS, `some`, or `none`. */
  readonly mtls: 'all' | 'some' | 'none';
  readonly mtlsRequests: number;
  readonly faults: number;
  readonly codes: Readonly<Record<string, number>>;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface ServiceGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

interface EdgeSum {
  from: string;
  to: string;
  subsets: Set<string>;
  protocols: Set<string>;
  reportedBy: Set<'source' | 'destination'>;
  requests: number;
  errors: number;
  rate: number;
  mtlsRequests: number;
  faults: number;
  codes: Record<string, number>;
  latencyMs: number[];
  requestBytes: number;
  responseBytes: number;
}

/** The node of callers nobody can name (Kiali's "unknown" node). */
export const UNKNOWN_NODE_ID = 'unknown';

/**
 * The service graph: a node per service and version (Kiali's "versioned app" graph), plus one per
 * calling workload that serves no service, one per service for requests that reached no endpoint
 * (an injected abort, no healthy upstream), and one `unknown` node for callers from outside the
 * mesh. Every registered service shows, idle or not.
 */
export function buildServiceGraph(
  edges: readonly MergedEdge[],
  workloads: Iterable<RegisteredWorkload>,
  domainSuffix: string,
): ServiceGraph {
  const nodes = new Map<string, GraphNode & { workloads: string[] }>();
  const registered = new Set<string>();
  /** `namespace/name` → service FQDN, to place a verified caller that reports nothing itself. */
  const servingWorkloads = new Map<string, string>();
  for (const workload of workloads) {
    const host = toFqdn(workload.service, { namespace: workload.namespace, domainSuffix });
    registered.add(host);
    servingWorkloads.set(`${workload.namespace}/${workload.name}`, host);
    const node = serviceNode(nodes, host, workload.labels.version ?? 'unknown', 'service');
    if (!node.workloads.includes(workload.name)) node.workloads.push(workload.name);
  }
  const sums = new Map<string, EdgeSum>();
  for (const edge of edges) {
    const from = sourceNode(nodes, callerOf(edge, servingWorkloads));
    const destination = edge.destination;
    const isService =
      registered.has(destination.service) || destination.service.endsWith(`.svc.${domainSuffix}`);
    const kind = isService ? 'service' : 'external';
    const to = serviceNode(
      nodes,
      destination.service,
      destination.version === 'unknown' ? null : destination.version,
      kind,
    );
    const id = `${from.id}->${to.id}`;
    let sum = sums.get(id);
    if (sum === undefined) {
      sum = {
        from: from.id,
        to: to.id,
        subsets: new Set(),
        protocols: new Set(),
        reportedBy: new Set(),
        requests: 0,
        errors: 0,
        rate: 0,
        mtlsRequests: 0,
        faults: 0,
        codes: {},
        latencyMs: new Array<number>(EDGE_LATENCY_BUCKETS).fill(0),
        requestBytes: 0,
        responseBytes: 0,
      };
      sums.set(id, sum);
    }
    if (destination.subset !== undefined) sum.subsets.add(destination.subset);
    sum.protocols.add(edge.protocol);
    sum.reportedBy.add(edge.reporter);
    sum.requests += edge.requests;
    sum.errors += edge.errors;
    sum.rate += edge.requestsPerSecond;
    sum.mtlsRequests += edge.mtlsRequests;
    sum.faults += edge.faults;
    sum.requestBytes += edge.requestBytes;
    sum.responseBytes += edge.responseBytes;
    for (const [code, amount] of Object.entries(edge.codes))
      sum.codes[code] = (sum.codes[code] ?? 0) + amount;
    edge.latencyMs.forEach((count, bucket) => {
      sum.latencyMs[bucket] = (sum.latencyMs[bucket] ?? 0) + count;
    });
  }
  return {
    nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    edges: [...sums.entries()].map(([id, sum]) => ({
      id,
      from: sum.from,
      to: sum.to,
      subsets: [...sum.subsets].sort(),
      protocols: [...sum.protocols].sort(),
      reportedBy: [...sum.reportedBy].sort(),
      requests: sum.requests,
      errors: sum.errors,
      requestsPerSecond: Math.round(sum.rate * 1000) / 1000,
      errorRate: sum.requests === 0 ? 0 : Math.round((sum.errors / sum.requests) * 10_000) / 10_000,
      p50Ms: rounded(latencyQuantileMs(sum.latencyMs, 0.5)),
      p99Ms: rounded(latencyQuantileMs(sum.latencyMs, 0.99)),
      mtls: sum.mtlsRequests === 0 ? 'none' : sum.mtlsRequests === sum.requests ? 'all' : 'some',
      mtlsRequests: sum.mtlsRequests,
      faults: sum.faults,
      codes: sum.codes,
      requestBytes: sum.requestBytes,
      responseBytes: sum.responseBytes,
    })),
  };
}

/** The id of the node for a service host at a version (null: no endpoint reached). */
export function serviceNodeId(host: string, version: string | null): string {
  return `svc:${host}:${version ?? '*'}`;
}

function serviceNode(
  nodes: Map<string, GraphNode & { workloads: string[] }>,
  host: string,
  version: string | null,
  kind: 'service' | 'external',
): GraphNode & { workloads: string[] } {
  const id = serviceNodeId(host, version);
  let node = nodes.get(id);
  if (node === undefined) {
    const [name = host, namespace = ''] = host.split('.');
    node = {
      id,
      kind,
      host,
      name: kind === 'service' ? name : host,
      namespace: kind === 'service' ? namespace : '',
      version,
      workloads: [],
    };
    nodes.set(id, node);
  }
  return node;
}

/**
 * The source an edge is drawn from: as reported, except that a verified caller reported by its
 * destination (which knows its workload, not its service) is placed at its registered service.
 */
function callerOf(edge: MergedEdge, servingWorkloads: ReadonlyMap<string, string>): EdgeSource {
  const { source } = edge;
  if (edge.reporter !== 'destination' || source.service !== undefined) return source;
  const service = servingWorkloads.get(`${source.namespace}/${source.workload}`);
  return service === undefined ? source : { ...source, service };
}

function sourceNode(nodes: Map<string, GraphNode & { workloads: string[] }>, source: EdgeSource): GraphNode {
  if (isUnknownSource(source)) {
    let node = nodes.get(UNKNOWN_NODE_ID);
    if (node === undefined) {
      node = {
        id: UNKNOWN_NODE_ID,
        kind: 'unknown',
        host: UNKNOWN_NODE_ID,
        name: UNKNOWN_NODE_ID,
        namespace: '',
        version: null,
        workloads: [],
      };
      nodes.set(UNKNOWN_NODE_ID, node);
    }
    return node;
  }
  if (source.service !== undefined) {
    // A caller that declares a service is that service's node, registered or not.
    const node = serviceNode(nodes, source.service, source.version, 'service');
    if (!node.workloads.includes(source.workload)) node.workloads.push(source.workload);
    return node;
  }
  const id = `wl:${source.namespace}/${source.workload}`;
  let node = nodes.get(id);
  if (node === undefined) {
    node = {
      id,
      kind: 'workload',
      host: source.workload,
      name: source.app === 'unknown' ? source.workload : source.app,
      namespace: source.namespace,
      version: null,
      workloads: [source.workload],
    };
    nodes.set(id, node);
  }
  return node;
}

function rounded(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 100) / 100;
}
