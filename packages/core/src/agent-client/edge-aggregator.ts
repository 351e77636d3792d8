import type { Cluster, ClusterEndpoint } from '../config/compile/cluster.ts';
import type { EdgeSink } from '../telemetry/edge-sink.ts';
import type { PeerLabels } from '../telemetry/istio-labels.ts';
import type { TelemetryCall } from '../telemetry/telemetry-call.ts';
import {
  EDGE_LATENCY_BOUNDS_MS,
  EDGE_LATENCY_BUCKETS,
  type EdgeAggregate,
  type EdgeCaller,
  type EdgeDestination,
  GRPC_STATUS_HTTP_CODES,
  type InboundEdgeAggregate,
  MAX_CODES_PER_EDGE,
  MAX_EDGES_PER_REPORT,
} from './edge-protocol.ts';

/** Where an edge's requests went (outbound, source-reported) or came from (inbound, destination-reported). */
type EdgeEnd =
  | { readonly direction: 'outbound'; readonly destination: EdgeDestination }
  | { readonly direction: 'inbound'; readonly caller: EdgeCaller };

/** One edge's counters, reset after every report; allocated once per edge. */
interface EdgeCounters {
  readonly key: string;
  readonly end: EdgeEnd;
  readonly protocol: 'http' | 'grpc';
  requests: number;
  errors: number;
  durationMsSum: number;
  requestBytes: number;
  responseBytes: number;
  mtlsRequests: number;
  faults: number;
  otherCodes: number;
  readonly codes: Map<number, number>;
  readonly latency: number[];
  /** Reports in a row this edge had no request; past EVICT_AFTER_IDLE_REPORTS it is forgotten. */
  idleReports: number;
}

/**
 * Where a call's edge is found without building its key: per endpoint (the usual case), per
 * cluster (no endpoint was reached), per authority (no cluster: no route, an injected abort).
 * `null` remembers an edge that was refused because the table was full.
 */
interface EdgeLookups {
  byEndpoint: WeakMap<ClusterEndpoint, EdgeCounters | null>;
  byCluster: WeakMap<Cluster, EdgeCounters | null>;
  readonly byAuthority: Map<string, EdgeCounters | null>;
  /** Inbound, per verified caller: adapters keep one PeerLabels object per connection and snapshot. */
  byCaller: WeakMap<PeerLabels, EdgeCounters | null>;
  /** Inbound, from callers without a verified identity. */
  unknownCaller: EdgeCounters | null | undefined;
}

export interface EdgeAggregatorOptions {
  /** The most edges tracked (and so reported) at once; requests on more are dropped and counted. */
  readonly maxEdges: number;
  /** The service FQDN for a host the caller addressed, for requests that reached no cluster. */
  readonly resolveHost: (host: string) => string;
}

/** An edge with no request for this many reports in a row is forgotten (its subset went away…). */
const EVICT_AFTER_IDLE_REPORTS = 12;

/** Authorities remembered for requests without a cluster; more are dropped and counted. */
const MAX_AUTHORITIES_PER_PROTOCOL = 256;

/** Distinct refused edges counted per report; past it the count stays at this (a lower bound). */
const MAX_REFUSED_KEYS = 1_024;

const UNKNOWN_VERSION = 'unknown';

/** What taking a report gives: the edges with requests since the last one, and what was dropped. */
export interface EdgeInterval {
  readonly edges: EdgeAggregate[];
  /** Inbound edges of callers that do not report their own (PROTOCOL.md §3.8.2). */
  readonly inbound: InboundEdgeAggregate[];
  readonly droppedEdges: number;
  readonly droppedRequests: number;
}

/**
 * Per-edge aggregates of this workload's outbound requests (this workload → destination service,
 * subset, version), and of the inbound requests whose caller does not report them (caller → this
 * workload), fed by the mesh's telemetry as each call ends (MeshTelemetry.attachEdgeSink) and
 * emptied by the edge reporter every few seconds. Both kinds share the `maxEdges` table.
 *
 * The request path costs a lookup in a WeakMap keyed by the endpoint object the call went to (or,
 * inbound, the caller's labels object) and a few increments; an edge's counters and key are
 * allocated the first time one of its endpoints (or, without an endpoint, its cluster or
 * authority; inbound, its caller) is seen in a snapshot, never per request.
 */
export class EdgeAggregator implements EdgeSink {
  readonly #maxEdges: number;
  readonly #resolveHost: (host: string) => string;
  readonly #edges = new Map<string, EdgeCounters>();
  readonly #lookups: Record<'http' | 'grpc', EdgeLookups> = { http: newLookups(), grpc: newLookups() };
  /** Edge keys refused since the last report, to count them (at most MAX_REFUSED_KEYS). */
  readonly #refused = new Set<string>();
  #droppedRequests = 0;

  constructor(options: EdgeAggregatorOptions) {
    if (
      !Number.isInteger(options.maxEdges) ||
      options.maxEdges < 1 ||
      options.maxEdges > MAX_EDGES_PER_REPORT
    )
      throw new RangeError(`edges.maxEdges must be an integer from 1 to ${MAX_EDGES_PER_REPORT}`);
    this.#maxEdges = options.maxEdges;
    this.#resolveHost = options.resolveHost;
  }

  /** Edges tracked now (with or without requests since the last report). */
  get size(): number {
    return this.#edges.size;
  }

  record(
    call: TelemetryCall,
    cluster: Cluster | undefined,
    endpoint: ClusterEndpoint | undefined,
    authority: string,
    flags: readonly string[] | undefined,
    durationMs: number,
  ): void {
    const edge = this.#edgeOf(call.protocol, cluster, endpoint, authority);
    if (edge === null) {
      this.#droppedRequests++;
      return;
    }
    count(edge, call, durationMs);
    if (flags !== undefined && (flags.includes('FI') || flags.includes('DI'))) edge.faults++;
  }

  recordInbound(call: TelemetryCall, durationMs: number): void {
    const edge = this.#inboundEdgeOf(call.protocol, call.peer);
    if (edge === null) {
      this.#droppedRequests++;
      return;
    }
    count(edge, call, durationMs);
  }

  /**
   * The edges that had requests since the last call, with their counters reset; what was dropped.
   * Edges idle for a while are forgotten, and edges refused for lack of room get another chance.
   */
  take(): EdgeInterval {
    const edges: EdgeAggregate[] = [];
    const inbound: InboundEdgeAggregate[] = [];
    let isForgetting = false;
    for (const edge of this.#edges.values()) {
      if (edge.requests === 0) {
        edge.idleReports++;
        if (edge.idleReports >= EVICT_AFTER_IDLE_REPORTS) {
          this.#edges.delete(edge.key);
          isForgetting = true;
        }
        continue;
      }
      edge.idleReports = 0;
      const end = edge.end;
      if (end.direction === 'outbound') edges.push({ destination: end.destination, ...countsOf(edge) });
      else inbound.push({ caller: end.caller, ...countsOf(edge) });
      resetCounters(edge);
    }
    const interval = {
      edges,
      inbound,
      droppedEdges: this.#refused.size,
      droppedRequests: this.#droppedRequests,
    };
    // Lookups may point at a forgotten edge, or remember a refusal that now fits: start afresh.
    if (isForgetting || this.#refused.size > 0 || this.#droppedRequests > 0) {
      this.#lookups.http = newLookups();
      this.#lookups.grpc = newLookups();
    }
    this.#refused.clear();
    this.#droppedRequests = 0;
    return interval;
  }

  #inboundEdgeOf(protocol: 'http' | 'grpc', peer: PeerLabels | undefined): EdgeCounters | null {
    const lookups = this.#lookups[protocol];
    if (peer === undefined) {
      lookups.unknownCaller ??= this.#edgeFor(protocol, { direction: 'inbound', caller: UNKNOWN_CALLER });
      return lookups.unknownCaller;
    }
    let edge = lookups.byCaller.get(peer);
    if (edge === undefined) {
      edge = this.#edgeFor(protocol, {
        direction: 'inbound',
        caller: {
          kind: 'peer',
          namespace: peer.namespace,
          workload: peer.workload,
          app: peer.app,
          version: peer.version,
          principal: peer.principal,
        },
      });
      lookups.byCaller.set(peer, edge);
    }
    return edge;
  }

  #edgeOf(
    protocol: 'http' | 'grpc',
    cluster: Cluster | undefined,
    endpoint: ClusterEndpoint | undefined,
    authority: string,
  ): EdgeCounters | null {
    const lookups = this.#lookups[protocol];
    if (endpoint !== undefined && cluster !== undefined) {
      let edge = lookups.byEndpoint.get(endpoint);
      if (edge === undefined) {
        edge = this.#edgeFor(protocol, outbound(cluster, endpoint.labels.version ?? UNKNOWN_VERSION));
        lookups.byEndpoint.set(endpoint, edge);
      }
      return edge;
    }
    if (cluster !== undefined) {
      let edge = lookups.byCluster.get(cluster);
      if (edge === undefined) {
        edge = this.#edgeFor(protocol, outbound(cluster, UNKNOWN_VERSION));
        lookups.byCluster.set(cluster, edge);
      }
      return edge;
    }
    let edge = lookups.byAuthority.get(authority);
    if (edge === undefined) {
      if (lookups.byAuthority.size >= MAX_AUTHORITIES_PER_PROTOCOL) return null;
      edge = this.#edgeFor(protocol, {
        direction: 'outbound',
        destination: { service: this.#resolveHost(hostOf(authority)), version: UNKNOWN_VERSION },
      });
      lookups.byAuthority.set(authority, edge);
    }
    return edge;
  }

  /** The edge for a destination or caller, made if there is room; null (and counted) when there is none. */
  #edgeFor(protocol: 'http' | 'grpc', end: EdgeEnd): EdgeCounters | null {
    const key = `${protocol}|${endKey(end)}`;
    const existing = this.#edges.get(key);
    if (existing !== undefined) return existing;
    if (this.#edges.size >= this.#maxEdges) {
      if (this.#refused.size < MAX_REFUSED_KEYS) this.#refused.add(key);
      return null;
    }
    const edge: EdgeCounters = {
      key,
      end,
      protocol,
      requests: 0,
      errors: 0,
      durationMsSum: 0,
      requestBytes: 0,
      responseBytes: 0,
      mtlsRequests: 0,
      faults: 0,
      otherCodes: 0,
      codes: new Map(),
      latency: new Array<number>(EDGE_LATENCY_BUCKETS).fill(0),
      idleReports: 0,
    };
    this.#edges.set(key, edge);
    return edge;
  }
}

const UNKNOWN_CALLER: EdgeCaller = Object.freeze({ kind: 'unknown' });

/**
 * Counts one call on its edge: HTTP errors are no response (0) and 5xx; gRPC errors are statuses
 * other than OK, and a gRPC call counts under its status's HTTP code (GRPC_STATUS_HTTP_CODES).
 */
function count(edge: EdgeCounters, call: TelemetryCall, durationMs: number): void {
  const grpcStatus = call.protocol === 'grpc' ? call.grpcStatus : undefined;
  let code = call.responseCode;
  edge.requests++;
  if (grpcStatus === undefined) {
    if (code === 0 || code >= 500) edge.errors++;
  } else {
    if (grpcStatus !== 0) edge.errors++;
    code = GRPC_STATUS_HTTP_CODES[grpcStatus] ?? 500;
  }
  const seen = edge.codes.get(code);
  if (seen !== undefined) edge.codes.set(code, seen + 1);
  else if (edge.codes.size < MAX_CODES_PER_EDGE) edge.codes.set(code, 1);
  else edge.otherCodes++;
  let bucket = 0;
  while (bucket < EDGE_LATENCY_BOUNDS_MS.length && durationMs > (EDGE_LATENCY_BOUNDS_MS[bucket] as number))
    bucket++;
  edge.latency[bucket] = (edge.latency[bucket] as number) + 1;
  edge.durationMsSum += durationMs;
  edge.requestBytes += call.requestBytes;
  edge.responseBytes += call.responseBytes;
  if (call.connectionSecurityPolicy === 'mutual_tls') edge.mtlsRequests++;
}

function newLookups(): EdgeLookups {
  return {
    byEndpoint: new WeakMap(),
    byCluster: new WeakMap(),
    byAuthority: new Map(),
    byCaller: new WeakMap(),
    unknownCaller: undefined,
  };
}

function outbound(cluster: Cluster, version: string): EdgeEnd {
  const destination: EdgeDestination =
    cluster.subset === undefined
      ? { service: cluster.host, version }
      : { service: cluster.host, subset: cluster.subset, version };
  return { direction: 'outbound', destination };
}

/** An edge's key in the table, after its protocol: the destination's parts, or the caller's. */
function endKey(end: EdgeEnd): string {
  if (end.direction === 'outbound') {
    const { destination } = end;
    return `${destination.service}|${destination.subset ?? ''}|${destination.version}`;
  }
  const { caller } = end;
  return caller.kind === 'unknown'
    ? 'in|unknown'
    : `in|${caller.namespace}|${caller.workload}|${caller.app}|${caller.version}|${caller.principal}`;
}

/** `reviews:9080` → `reviews`; `[::1]:80` → `::1`. Lower-cased, at most 253 characters. */
export function hostOf(authority: string): string {
  let host = authority;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end === -1 ? host.slice(1) : host.slice(1, end);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  return host.slice(0, 253).toLowerCase();
}

function countsOf(edge: EdgeCounters): Omit<EdgeAggregate, 'destination'> {
  const codes: Record<string, number> = {};
  for (const [code, count] of edge.codes) if (count > 0) codes[String(code)] = count;
  if (edge.otherCodes > 0) codes.other = edge.otherCodes;
  return {
    protocol: edge.protocol,
    requests: edge.requests,
    errors: edge.errors,
    codes,
    latencyMs: [...edge.latency],
    durationMsSum: Math.round(edge.durationMsSum),
    requestBytes: edge.requestBytes,
    responseBytes: edge.responseBytes,
    mtlsRequests: edge.mtlsRequests,
    faults: edge.faults,
  };
}

/** Zeroes the counters in place (the codes seen stay as keys: a code map settles quickly). */
function resetCounters(edge: EdgeCounters): void {
  edge.requests = 0;
  edge.errors = 0;
  edge.durationMsSum = 0;
  edge.requestBytes = 0;
  edge.responseBytes = 0;
  edge.mtlsRequests = 0;
  edge.faults = 0;
  edge.otherCodes = 0;
  for (const code of edge.codes.keys()) edge.codes.set(code, 0);
  edge.latency.fill(0);
}
