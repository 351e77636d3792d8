import type { Cluster, ClusterEndpoint } from '../config/compile/cluster.ts';
import type { TelemetryCall } from './telemetry-call.ts';

/**
 * Where an outbound call's outcome goes when it ends, besides spans, metrics and logs: the agent
 * client's per-edge aggregates (agent-client/edge-aggregator.ts). Called once per logical
 * outbound request, on the request path, so an implementation must cost a few integer increments
 * and allocate nothing once the call's edge is known.
 *
 * `cluster` and `endpoint` are those of the last attempt (undefined when no attempt was made: no
 * route, an injected abort, …); `authority` is what the caller addressed; `flags` are Envoy's
 * response flags so far (undefined when none). Everything else is read from the call's public
 * fields (`responseCode`, `requestBytes`, `connectionSecurityPolicy`, …).
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
}
