import {
  EDGE_LATENCY_BUCKETS,
  type EdgeAggregate,
  type EdgeCaller,
  type EdgeDestination,
  type FaultCount,
  type InboundEdgeAggregate,
} from '@weft/core';

/**
 * An edge's counts added up over some reports. An inbound edge (destination-reported, PROTOCOL.md
 * §3.8.2) has its `caller`, and its `destination` is the reporting client's own service.
 */
export interface EdgeTotals {
  readonly destination: EdgeDestination;
  readonly caller?: EdgeCaller;
  readonly protocol: 'http' | 'grpc';
  requests: number;
  errors: number;
  readonly codes: Record<string, number>;
  readonly latencyMs: number[];
  durationMsSum: number;
  requestBytes: number;
  responseBytes: number;
  mtlsRequests: number;
  faults: number;
}

/** What one client reported during a window. */
export interface WindowTotals {
  /** Per edge key (`protocol|service|subset|version`; inbound, `in|protocol|caller…`). */
  readonly edges: Map<string, EdgeTotals>;
  /** Per route. */
  readonly faults: Map<string, { delays: number; aborts: number; overflows: number }>;
  /** The time the window's reports cover, by the client's account (their `intervalMs`). */
  coveredMs: number;
  droppedEdges: number;
  droppedRequests: number;
  droppedReports: number;
}

interface Bucket {
  /** `floor(time / bucketMs)` of the reports it holds; -1 when empty. */
  index: number;
  totals: WindowTotals;
}

export interface EdgeWindowSettings {
  /** Width of one bucket. Default 5,000 ms. */
  readonly bucketMs: number;
  /** Buckets kept: the longest window served is `bucketMs × buckets`. Default 12 (60 s). */
  readonly buckets: number;
}

export const DEFAULT_EDGE_WINDOW: EdgeWindowSettings = Object.freeze({ bucketMs: 5_000, buckets: 12 });

/**
 * One client's recent edge reports, in a ring of fixed-width time buckets on the agent's clock:
 * a report is added to the bucket of the time it arrives, and a window of the last N buckets is
 * the sum of theirs. Memory is bounded by buckets × the edges of one report, whatever the rate.
 */
export class EdgeWindow {
  readonly #settings: EdgeWindowSettings;
  readonly #buckets: Bucket[];

  constructor(settings: EdgeWindowSettings = DEFAULT_EDGE_WINDOW) {
    this.#settings = settings;
    this.#buckets = Array.from({ length: settings.buckets }, () => ({ index: -1, totals: emptyTotals() }));
  }

  /**
   * Adds a report's counts to the bucket of `nowMs`. Inbound edges end at the reporter's own
   * service and version (`report.source`); a reporter that names no service has none.
   */
  add(
    nowMs: number,
    report: {
      readonly source: { readonly version: string; readonly service?: string };
      readonly intervalMs: number;
      readonly edges: readonly EdgeAggregate[];
      readonly inbound?: readonly InboundEdgeAggregate[];
      readonly faults: readonly FaultCount[];
      readonly dropped: { readonly edges: number; readonly requests: number; readonly reports: number };
    },
  ): void {
    const index = Math.floor(nowMs / this.#settings.bucketMs);
    const bucket = this.#buckets[index % this.#settings.buckets] as Bucket;
    if (bucket.index !== index) {
      bucket.index = index;
      bucket.totals = emptyTotals();
    }
    const totals = bucket.totals;
    totals.coveredMs += report.intervalMs;
    totals.droppedEdges += report.dropped.edges;
    totals.droppedRequests += report.dropped.requests;
    totals.droppedReports += report.dropped.reports;
    for (const edge of report.edges) addEdge(totals.edges, edgeKey(edge), edge);
    const service = report.source.service;
    if (service !== undefined) {
      const destination = { service, version: report.source.version };
      for (const edge of report.inbound ?? [])
        addEdge(totals.edges, inboundEdgeKey(edge), { ...edge, destination });
    }
    for (const fault of report.faults) addFault(totals.faults, fault);
  }

  /**
   * The sum of the buckets within `windowMs` of `nowMs` (the current bucket, partly elapsed, and
   * the whole ones before it); undefined when none holds a report.
   */
  totals(nowMs: number, windowMs: number): WindowTotals | undefined {
    const { bucketMs, buckets } = this.#settings;
    const current = Math.floor(nowMs / bucketMs);
    const span = Math.min(buckets, Math.max(1, Math.ceil(windowMs / bucketMs)));
    let sum: WindowTotals | undefined;
    for (const bucket of this.#buckets) {
      if (bucket.index < 0 || bucket.index > current || bucket.index <= current - span) continue;
      sum ??= emptyTotals();
      const totals = bucket.totals;
      sum.coveredMs += totals.coveredMs;
      sum.droppedEdges += totals.droppedEdges;
      sum.droppedRequests += totals.droppedRequests;
      sum.droppedReports += totals.droppedReports;
      for (const [key, edge] of totals.edges) addEdge(sum.edges, key, edge);
      for (const [route, fault] of totals.faults) addFault(sum.faults, { route, ...fault });
    }
    return sum;
  }
}

export function edgeKey(edge: { readonly protocol: string; readonly destination: EdgeDestination }): string {
  const { destination } = edge;
  return `${edge.protocol}|${destination.service}|${destination.subset ?? ''}|${destination.version}`;
}

/** An inbound edge's key: its protocol and its caller (all of the caller's labels, or `unknown`). */
export function inboundEdgeKey(edge: { readonly protocol: string; readonly caller: EdgeCaller }): string {
  const { caller } = edge;
  return caller.kind === 'unknown'
    ? `in|${edge.protocol}|unknown`
    : `in|${edge.protocol}|${caller.namespace}|${caller.workload}|${caller.app}|${caller.version}|${caller.principal}`;
}

function emptyTotals(): WindowTotals {
  return {
    edges: new Map(),
    faults: new Map(),
    coveredMs: 0,
    droppedEdges: 0,
    droppedRequests: 0,
    droppedReports: 0,
  };
}

/** An edge's counts, as a report or a sum of reports gives them. */
export type EdgeCounts = Omit<EdgeAggregate, 'codes' | 'latencyMs'> & {
  readonly caller?: EdgeCaller;
  readonly codes: Readonly<Record<string, number>>;
  readonly latencyMs: readonly number[];
};

/** Zero counts for `edge`'s destination (and caller) and protocol. */
export function emptyEdgeTotals(edge: Pick<EdgeCounts, 'destination' | 'protocol' | 'caller'>): EdgeTotals {
  return {
    destination: edge.destination,
    ...(edge.caller === undefined ? {} : { caller: edge.caller }),
    protocol: edge.protocol,
    requests: 0,
    errors: 0,
    codes: {},
    latencyMs: new Array<number>(EDGE_LATENCY_BUCKETS).fill(0),
    durationMsSum: 0,
    requestBytes: 0,
    responseBytes: 0,
    mtlsRequests: 0,
    faults: 0,
  };
}

/** Adds `edge`'s counts into `totals`. */
export function addEdgeCounts(totals: EdgeTotals, edge: EdgeCounts): void {
  totals.requests += edge.requests;
  totals.errors += edge.errors;
  for (const [code, amount] of Object.entries(edge.codes))
    totals.codes[code] = (totals.codes[code] ?? 0) + amount;
  for (let bucket = 0; bucket < EDGE_LATENCY_BUCKETS; bucket++)
    totals.latencyMs[bucket] = (totals.latencyMs[bucket] as number) + (edge.latencyMs[bucket] ?? 0);
  totals.durationMsSum += edge.durationMsSum;
  totals.requestBytes += edge.requestBytes;
  totals.responseBytes += edge.responseBytes;
  totals.mtlsRequests += edge.mtlsRequests;
  totals.faults += edge.faults;
}

function addEdge(into: Map<string, EdgeTotals>, key: string, edge: EdgeCounts): void {
  let totals = into.get(key);
  if (totals === undefined) {
    totals = emptyEdgeTotals(edge);
    into.set(key, totals);
  }
  addEdgeCounts(totals, edge);
}

function addFault(into: WindowTotals['faults'], fault: FaultCount): void {
  const totals = into.get(fault.route) ?? { delays: 0, aborts: 0, overflows: 0 };
  totals.delays += fault.delays;
  totals.aborts += fault.aborts;
  totals.overflows += fault.overflows;
  into.set(fault.route, totals);
}
