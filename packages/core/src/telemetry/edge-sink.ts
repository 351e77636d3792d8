import type { Cluster, ClusterEndpoint } from '../config/compile/cluster.ts';
import type { TelemetryCall } from './telemetry-call.ts';

/**
 * The request header (gRPC: metadata) a workload that reports edges puts on every outbound
 * request, so that the destination knows the request is counted at its source and does not count
 * it again (PROTOCOL.md §3.8.2). Its value is EDGE_REPORTED_BY_SOURCE; it is never propagated
 * further than one hop (it is not one of the headers a request context carries on).
 */
export const EDGE_REPORTER_HEADER = 'x-weft-edge';
export const EDGE_REPORTED_BY_SOURCE = 'source';

/**
 * Where a call's outcome goes when it ends, besides spans, metrics and logs: the agent client's
 * per-edge aggregates (agent-client/edge-aggregator.ts). Called once per logical request, on the
 * request path, so an implementation must cost a few integer increments and allocate nothing once
 * the call's edge is known.
 *
 * Outbound calls go to `record`. `cluster` and `endpoint` are those of the last attempt
 * (undefined when no attempt was made: no route, an injected abort, …); `authority` is what the
 * caller addressed; `flags` are Envoy's response flags so far (undefined when none). Everything
 * else is read from the call's public fields (`responseCode`, `grpcStatus`, `requestBytes`,
 * `connectionSecurityPolicy`, …).
 *
 * Inbound calls go to `recordInbound`, and only those whose caller does not report them itself
 * (no EDGE_REPORTER_HEADER): a caller outside the mesh, or a workload that does not report edges.
 * The caller is `call.peer`: its verified identity's labels over mTLS, undefined otherwise.
 */
export interface EdgeSink {
  record(
    call: TelemetryCall,
    cluster: Cluster | undefined,
    endpoint: ClusterEndpoint | undefined,
    authority: string,
    flags: readonly string[] | undefined,
    durationMs: number,
  ): void;
  recordInbound(call: TelemetryCall, durationMs: number): void;
}
