/**
 * Edge reports (PROTOCOL.md §3.8): every few seconds a client tells the agent, per edge (this
 * workload → a destination service, subset and version), what its outbound requests did since
 * the previous report. The agent keeps a sliding window of them for `GET /v1/edges` and the
 * dashboard. This file is the type-checked half of the wire format; both sides import it.
 */

/**
 * Upper bounds, inclusive, of the latency histogram's buckets in ms; one more bucket counts what
 * is slower. Fixed by the protocol so that histograms from any client add up bucket by bucket.
 */
export const EDGE_LATENCY_BOUNDS_MS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000,
]);

/** Buckets in every histogram: one per bound, and one past the last. */
export const EDGE_LATENCY_BUCKETS = EDGE_LATENCY_BOUNDS_MS.length + 1;

/** The most edges one report may carry, outbound and inbound together; the agent refuses more (400). */
export const MAX_EDGES_PER_REPORT = 500;

/** The most ejections and fault routes one report may carry. */
export const MAX_EJECTIONS_PER_REPORT = 64;
export const MAX_FAULT_ROUTES_PER_REPORT = 64;

/** The most distinct status codes kept per edge; others are counted under `other`. */
export const MAX_CODES_PER_EDGE = 16;

/** The path a client posts its edge report to (with its watch's stream token). */
export function edgeReportPath(clientId: string): string {
  return `/v1/clients/${encodeURIComponent(clientId)}/edges`;
}

/** Where a request went, as far as the client knows. */
export interface EdgeDestination {
  /** The service's FQDN (`reviews.default.svc.cluster.local`), or the host the caller addressed. */
  readonly service: string;
  /** The DestinationRule subset the route chose; absent when the route named none. */
  readonly subset?: string;
  /** The `version` label of the endpoint the last attempt went to; `unknown` when none was reached. */
  readonly version: string;
}

/** What one edge's requests did during the report's interval. Counts, never rates. */
export interface EdgeAggregate {
  readonly destination: EdgeDestination;
  readonly protocol: 'http' | 'grpc';
  /** Logical requests (retries are attempts of one request, as in Istio's metrics). */
  readonly requests: number;
  /**
   * Requests that failed: HTTP, no response (`0`) or a 5xx; gRPC, a status other than OK (the
   * caller's view, as OpenTelemetry's RPC conventions and Kiali count gRPC errors).
   */
  readonly errors: number;
  /**
   * Requests per response code (`"200"`, `"503"`, `"0"` for none, `"other"` past the cap). A gRPC
   * call counts under the HTTP code of its status (GRPC_STATUS_HTTP_CODES: OK 200, UNAVAILABLE 503,
   * DEADLINE_EXCEEDED 504, …), so that one code model serves both protocols.
   */
  readonly codes: Readonly<Record<string, number>>;
  /** Requests per latency bucket (EDGE_LATENCY_BOUNDS_MS), start of the request to its end. */
  readonly latencyMs: readonly number[];
  /** Sum of the requests' durations, for a mean. */
  readonly durationMsSum: number;
  /** Body bytes sent and received. */
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** Requests whose answering attempt went over mutual TLS. */
  readonly mtlsRequests: number;
  /** Requests with an injected fault: an abort (FI) or a delay (DI). */
  readonly faults: number;
}

/**
 * The HTTP code a gRPC status counts under in `codes`, indexed by status: google.rpc.Code's own
 * HTTP mapping (CANCELLED as 499, the code for a client that went away). A status past the table
 * counts as 500. The only copy: @weft/grpc's `grpcStatusToHttp` (what outlier detection and call
 * breakers judge a gRPC answer by) reads it too.
 */
export const GRPC_STATUS_HTTP_CODES: readonly number[] = Object.freeze([
  200, // OK
  499, // CANCELLED
  500, // UNKNOWN
  400, // INVALID_ARGUMENT
  504, // DEADLINE_EXCEEDED
  404, // NOT_FOUND
  409, // ALREADY_EXISTS
  403, // PERMISSION_DENIED
  429, // RESOURCE_EXHAUSTED
  400, // FAILED_PRECONDITION
  409, // ABORTED
  400, // OUT_OF_RANGE
  501, // UNIMPLEMENTED
  500, // INTERNAL
  503, // UNAVAILABLE
  500, // DATA_LOSS
  401, // UNAUTHENTICATED
]);

/**
 * Who called, as the destination knows it (PROTOCOL.md §3.8.2): a peer that proved its identity
 * over mutual TLS (its namespace and principal from its SPIFFE ID; workload, app and version from
 * its registration, `unknown` when the registry cannot tell), or a caller the destination cannot
 * name (plaintext, from outside the mesh).
 */
export type EdgeCaller =
  | { readonly kind: 'unknown' }
  | {
      readonly kind: 'peer';
      readonly namespace: string;
      readonly workload: string;
      readonly app: string;
      readonly version: string;
      readonly principal: string;
    };

/**
 * What one caller's requests to this workload did during the interval, counted by this workload
 * (the destination) because the caller does not count them: it sent no EDGE_REPORTER_HEADER.
 * The destination is the reporting workload itself (the report's `source`). `faults` is always 0:
 * faults are injected at the caller.
 */
export interface InboundEdgeAggregate extends Omit<EdgeAggregate, 'destination'> {
  readonly caller: EdgeCaller;
}

/** An endpoint that outlier detection holds ejected right now. */
export interface EjectionState {
  readonly cluster: string;
  /** `address:port`. */
  readonly endpoint: string;
  readonly reason: string;
  /** How long it has been ejected, at the time of the report. */
  readonly ejectedForMs: number;
  /** How many times it has been ejected, this one included. */
  readonly times: number;
}

/** Faults a route injected during the report's interval. */
export interface FaultCount {
  readonly route: string;
  readonly delays: number;
  readonly aborts: number;
  /** Faults drawn but not injected because `maxActiveFaults` were already active. */
  readonly overflows: number;
}

/** Body of `POST /v1/clients/{clientId}/edges`. The workload and namespace are the watch's. */
export interface EdgeReport {
  /** The reporting workload's `app` and `version` labels, and the FQDN of the service it serves. */
  readonly source: { readonly app: string; readonly version: string; readonly service?: string };
  /** The time the counts cover, on the client's clock (normally the report interval). */
  readonly intervalMs: number;
  readonly edges: readonly EdgeAggregate[];
  /**
   * Inbound requests of callers that do not report them (PROTOCOL.md §3.8.2), per caller; only
   * from a workload that serves a service. Absent from older clients: read as empty.
   */
  readonly inbound?: readonly InboundEdgeAggregate[];
  /** What this client could not report since its last report that got through. */
  readonly dropped: {
    /** Distinct edges refused because the client already tracked its maximum. */
    readonly edges: number;
    /** Requests on those edges. */
    readonly requests: number;
    /** Earlier reports that could not be sent (no stream, or the agent refused or failed). */
    readonly reports: number;
  };
  /** Endpoints ejected now (a state, not a delta), at most MAX_EJECTIONS_PER_REPORT. */
  readonly ejections: readonly EjectionState[];
  /** Faults injected during the interval, per route, at most MAX_FAULT_ROUTES_PER_REPORT. */
  readonly faults: readonly FaultCount[];
  /** The workload's certificate (its SVID), when it has an identity. */
  readonly certificate?: { readonly spiffeId?: string; readonly notAfter: string };
}
