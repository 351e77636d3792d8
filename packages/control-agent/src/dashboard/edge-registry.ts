import type { EdgeCaller, EdgeDestination, EdgeReport, EjectionState } from '@weft/core';
import {
  addEdgeCounts,
  DEFAULT_EDGE_WINDOW,
  type EdgeCounts,
  type EdgeTotals,
  EdgeWindow,
  type EdgeWindowSettings,
  emptyEdgeTotals,
} from './edge-window.ts';
import { latencyQuantileMs } from './latency-quantile.ts';

/**
 * Where an edge's requests came from. Source-reported edges: the reporting watch's workload and
 * namespace, and the labels its reports give. Destination-reported edges (PROTOCOL.md §3.8.2): the
 * caller as the destination knew it, a verified peer (with its principal) or UNKNOWN_SOURCE.
 */
export interface EdgeSource {
  readonly namespace: string;
  readonly workload: string;
  readonly app: string;
  readonly version: string;
  /** The FQDN of the service the source serves, when it serves one (and reports it). */
  readonly service?: string;
  /** The SPIFFE ID a caller proved to the destination that reported the edge. */
  readonly principal?: string;
}

/** The source of requests whose caller nobody can name: a client outside the mesh. */
export const UNKNOWN_SOURCE: EdgeSource = Object.freeze({
  namespace: 'unknown',
  workload: 'unknown',
  app: 'unknown',
  version: 'unknown',
});

export function isUnknownSource(source: EdgeSource): boolean {
  return source.workload === 'unknown' && source.namespace === 'unknown' && source.principal === undefined;
}

/**
 * One edge over a window, added up over every client that reported it: the clients of the source
 * workload (`reporter: 'source'`), or of the destination workload for callers that report nothing
 * themselves (`reporter: 'destination'`). No request is counted by both (PROTOCOL.md §3.8.2).
 */
export interface MergedEdge {
  readonly source: EdgeSource;
  readonly destination: EdgeDestination;
  readonly reporter: 'source' | 'destination';
  readonly protocol: 'http' | 'grpc';
  readonly requests: number;
  readonly errors: number;
  readonly codes: Readonly<Record<string, number>>;
  readonly latencyMs: readonly number[];
  readonly durationMsSum: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly mtlsRequests: number;
  readonly faults: number;
  /** Requests per second over the time the reports cover. */
  readonly requestsPerSecond: number;
  /** errors / requests (0 without requests). */
  readonly errorRate: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** How many clients reported this edge in the window. */
  readonly reporters: number;
}

/** What one client reported, as of its latest report. */
export interface ClientEdgeSummary {
  readonly clientId: string;
  readonly source: EdgeSource;
  readonly lastReportAgoMs: number;
  readonly edges: number;
  readonly requests: number;
  readonly ejections: readonly EjectionState[];
  readonly faults: readonly { route: string; delays: number; aborts: number; overflows: number }[];
  readonly certificate: EdgeReport['certificate'] | null;
  readonly dropped: { readonly edges: number; readonly requests: number; readonly reports: number };
}

/** `GET /v1/edges`: the window's edges, merged per source workload, and each reporting client. */
export interface EdgeView {
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly edges: readonly MergedEdge[];
  readonly clients: readonly ClientEdgeSummary[];
}

interface ClientEdges {
  readonly clientId: string;
  source: EdgeSource;
  readonly window: EdgeWindow;
  lastReportMs: number;
  lastIntervalMs: number;
  ejections: readonly EjectionState[];
  certificate: EdgeReport['certificate'] | undefined;
}

/**
 * The edge reports of this agent's clients (PROTOCOL.md §3.8), each in its own sliding window,
 * merged per edge on request. Bounded: at most `maxClients` clients (the one silent longest is
 * forgotten first), and a client silent for longer than the window is forgotten anyway. On etcd,
 * every agent holds what its own clients report.
 */
export class EdgeRegistry {
  readonly #settings: EdgeWindowSettings;
  readonly #maxClients: number;
  readonly #clients = new Map<string, ClientEdges>();

  constructor(options: { readonly maxClients: number; readonly window?: EdgeWindowSettings }) {
    this.#settings = options.window ?? DEFAULT_EDGE_WINDOW;
    this.#maxClients = Math.max(1, options.maxClients);
  }

  /** The longest window served. */
  get maxWindowMs(): number {
    return this.#settings.bucketMs * this.#settings.buckets;
  }

  get bucketMs(): number {
    return this.#settings.bucketMs;
  }

  record(clientId: string, source: EdgeSource, report: EdgeReport, nowMs: number): void {
    let entry = this.#clients.get(clientId);
    if (entry === undefined) {
      entry = {
        clientId,
        source,
        window: new EdgeWindow(this.#settings),
        lastReportMs: nowMs,
        lastIntervalMs: report.intervalMs,
        ejections: [],
        certificate: undefined,
      };
    }
    // Re-inserted so that map order stays "silent longest first" for eviction.
    this.#clients.delete(clientId);
    this.#clients.set(clientId, entry);
    entry.source = source;
    entry.window.add(nowMs, report);
    entry.lastReportMs = nowMs;
    entry.lastIntervalMs = report.intervalMs;
    entry.ejections = report.ejections;
    entry.certificate = report.certificate;
    this.#forgetStale(nowMs);
    while (this.#clients.size > this.#maxClients) {
      const oldest = this.#clients.keys().next().value;
      if (oldest === undefined) break;
      this.#clients.delete(oldest);
    }
  }

  /** The latest certificate a client reported, if any. */
  certificateOf(clientId: string): EdgeReport['certificate'] | undefined {
    return this.#clients.get(clientId)?.certificate;
  }

  /** Milliseconds since a client's last report; undefined when it has none in memory. */
  lastReportAgoMs(clientId: string, nowMs: number): number | undefined {
    const entry = this.#clients.get(clientId);
    return entry === undefined ? undefined : nowMs - entry.lastReportMs;
  }

  view(nowMs: number, windowMs: number): EdgeView {
    this.#forgetStale(nowMs);
    const merge = new EdgeMerge();
    const clients: ClientEdgeSummary[] = [];
    for (const entry of this.#clients.values()) {
      const window = entry.window.totals(nowMs, windowMs);
      const { source } = entry;
      // Silence past one report interval counts as time with no requests, so that the rate of a
      // client that went away decays instead of freezing at its last value.
      const silentMs = Math.max(0, nowMs - entry.lastReportMs - entry.lastIntervalMs);
      const coveredMs = Math.max(1, (window?.coveredMs ?? 0) + silentMs);
      let requests = 0;
      for (const edge of window?.edges.values() ?? []) {
        const reporter = edge.caller === undefined ? 'source' : 'destination';
        const edgeSource = edge.caller === undefined ? source : sourceOfCaller(edge.caller);
        merge.add(edgeSource, reporter, edge, (edge.requests * 1000) / coveredMs, 1);
        requests += edge.requests;
      }
      clients.push({
        clientId: entry.clientId,
        source,
        lastReportAgoMs: nowMs - entry.lastReportMs,
        edges: window?.edges.size ?? 0,
        requests,
        ejections: entry.ejections,
        faults: [...(window?.faults ?? [])].map(([route, fault]) => ({ route, ...fault })),
        certificate: entry.certificate ?? null,
        dropped: {
          edges: window?.droppedEdges ?? 0,
          requests: window?.droppedRequests ?? 0,
          reports: window?.droppedReports ?? 0,
        },
      });
    }
    return {
      windowMs: this.clampWindowMs(windowMs),
      bucketMs: this.#settings.bucketMs,
      edges: merge.edges(),
      clients,
    };
  }

  /** `windowMs` within what the buckets hold: one bucket to all of them. */
  clampWindowMs(windowMs: number): number {
    return Math.min(this.maxWindowMs, Math.max(this.#settings.bucketMs, windowMs));
  }

  #forgetStale(nowMs: number): void {
    const horizonMs = nowMs - this.maxWindowMs - this.#settings.bucketMs;
    for (const [clientId, entry] of this.#clients) {
      if (entry.lastReportMs < horizonMs) this.#clients.delete(clientId);
    }
  }
}

interface EdgeSum {
  readonly source: EdgeSource;
  readonly reporter: MergedEdge['reporter'];
  readonly totals: EdgeTotals;
  rate: number;
  reporters: number;
}

/**
 * Edges added up into one per merge key (source, reporter, protocol, destination): counts and
 * histogram buckets summed, rates and reporters added. Used for this agent's clients and for the
 * mesh-wide view over every agent's.
 */
export class EdgeMerge {
  readonly #sums = new Map<string, EdgeSum>();

  /** Adds `edge`'s counts as an edge of `source`, reported at `requestsPerSecond` by `reporters` clients. */
  add(
    source: EdgeSource,
    reporter: MergedEdge['reporter'],
    edge: EdgeCounts,
    requestsPerSecond: number,
    reporters: number,
  ): void {
    const key = mergedEdgeKey({ source, reporter, protocol: edge.protocol, destination: edge.destination });
    let sum = this.#sums.get(key);
    if (sum === undefined) {
      sum = { source, reporter, totals: emptyEdgeTotals(edge), rate: 0, reporters: 0 };
      this.#sums.set(key, sum);
    }
    addEdgeCounts(sum.totals, edge);
    sum.rate += requestsPerSecond;
    sum.reporters += reporters;
  }

  /** The merged edges, busiest first. */
  edges(): MergedEdge[] {
    const edges = [...this.#sums.values()].map(({ source, reporter, totals, rate, reporters }) =>
      mergedEdgeOf(source, reporter, totals, rate, reporters),
    );
    return edges.sort(byRequests);
  }
}

/** What identifies an edge in a merge: its source, who reported it, protocol and destination. */
export function mergedEdgeKey(
  edge: Pick<MergedEdge, 'source' | 'reporter' | 'protocol' | 'destination'>,
): string {
  const { source, destination } = edge;
  return [
    source.namespace,
    source.workload,
    source.app,
    source.version,
    source.service ?? '',
    source.principal ?? '',
    edge.reporter,
    edge.protocol,
    destination.service,
    destination.subset ?? '',
    destination.version,
  ].join('|');
}

/** A merged edge from summed counts: rates as given, error rate and percentiles from the sums. */
export function mergedEdgeOf(
  source: EdgeSource,
  reporter: MergedEdge['reporter'],
  totals: EdgeTotals,
  requestsPerSecond: number,
  reporters: number,
): MergedEdge {
  return {
    source,
    destination: totals.destination,
    reporter,
    protocol: totals.protocol,
    requests: totals.requests,
    errors: totals.errors,
    codes: totals.codes,
    latencyMs: totals.latencyMs,
    durationMsSum: totals.durationMsSum,
    requestBytes: totals.requestBytes,
    responseBytes: totals.responseBytes,
    mtlsRequests: totals.mtlsRequests,
    faults: totals.faults,
    requestsPerSecond: round(requestsPerSecond, 3),
    errorRate: totals.requests === 0 ? 0 : round(totals.errors / totals.requests, 4),
    p50Ms: roundOrNull(latencyQuantileMs(totals.latencyMs, 0.5)),
    p99Ms: roundOrNull(latencyQuantileMs(totals.latencyMs, 0.99)),
    reporters,
  };
}

/** Busiest first; ties in a stable order (the merge key), so that two views of the same counts agree. */
export function byRequests(a: MergedEdge, b: MergedEdge): number {
  if (a.requests !== b.requests) return b.requests - a.requests;
  const keyA = mergedEdgeKey(a);
  const keyB = mergedEdgeKey(b);
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

/** The source of a destination-reported edge: the verified caller's labels, or UNKNOWN_SOURCE. */
function sourceOfCaller(caller: EdgeCaller): EdgeSource {
  if (caller.kind === 'unknown') return UNKNOWN_SOURCE;
  return {
    namespace: caller.namespace,
    workload: caller.workload,
    app: caller.app,
    version: caller.version,
    principal: caller.principal,
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : round(value, 2);
}
