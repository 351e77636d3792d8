import { type Metadata, status as Status } from '@grpc/grpc-js';
import type { Mesh, RouteRequest, TelemetryCall } from '@weft/core';
import type { IncomingCall } from '../inbound/incoming-call.ts';
import type { EndpointTransport } from '../security/endpoint-transport.ts';
import { transportState } from '../security/transport-state.ts';
import type { MeshStatus } from '../status/mesh-status.ts';

/**
 * The client side of @weft/core's telemetry for one logical gRPC call (docs/telemetry.md): one
 * client span named `package.Service/Method` with the `rpc.*` attributes, Istio's metrics with
 * `request_protocol="grpc"`, `response_code` 200 for every call that got an answer (gRPC
 * carries its outcome in `grpc_response_status`, as Istio reports it), an event per attempt, and
 * trace context injected into every attempt's metadata.
 */

/** Where telemetry writes the trace context the call's attempts carry. */
export interface TraceHeaderSink {
  addTraceHeader(name: string, value: string): void;
}

const SINK_SETTER = {
  set(carrier: unknown, key: string, value: string): void {
    (carrier as TraceHeaderSink).addTraceHeader(key, value);
  },
};

/** Trace headers a caller may set itself; any of them means it chose its own trace context. */
const OWN_TRACE_HEADERS = ['traceparent', 'b3', 'x-b3-traceid'] as const;

/**
 * Starts the call's telemetry; undefined when nothing records (no SDK, no access log). The span's
 * parent is the active span, else the trace the caller's metadata carries, else the inbound call's
 * (the server span of the call this one is made for), so a trace continues across a workload
 * even without an OpenTelemetry context manager.
 */
export function startClientTelemetry(
  mesh: Mesh,
  request: RouteRequest,
  metadata: Metadata,
  incoming: IncomingCall | undefined,
  sink: TraceHeaderSink,
): TelemetryCall | undefined {
  const inherited = incoming?.traceHeaders;
  const traced =
    inherited === undefined || inherited.length === 0 || hasOwnTrace(metadata)
      ? request
      : withInheritedTrace(request, inherited);
  return mesh.telemetry.startClientCall(traced, sink, SINK_SETTER, 'grpc');
}

/** Whether the caller put trace context in its metadata itself. */
export function hasOwnTrace(metadata: Metadata): boolean {
  for (const name of OWN_TRACE_HEADERS) if (metadata.get(name).length > 0) return true;
  return false;
}

function withInheritedTrace(
  request: RouteRequest,
  inherited: readonly (readonly [string, string])[],
): RouteRequest {
  return {
    path: request.path,
    method: request.method,
    authority: request.authority,
    scheme: request.scheme,
    port: request.port,
    header: (name) => request.header(name) ?? inherited.find(([key]) => key === name)?.[1],
  };
}

/**
 * What the connection an attempt goes over tells Istio's labels: connection_security_policy and,
 * over mTLS, source_principal. Only when the channel follows the mesh's TLS settings; a channel
 * with the application's own credentials reports `unknown`, as Istio's client side does.
 */
export function noteAttemptTransport(call: TelemetryCall, mesh: Mesh, transport: EndpointTransport): void {
  if (transport.kind === 'mtls') {
    call.connectionSecurityPolicy = 'mutual_tls';
    call.sourcePrincipal = mesh.identity?.current()?.spiffeId;
  } else {
    call.connectionSecurityPolicy = 'none';
    call.sourcePrincipal = undefined;
  }
  call.destinationPrincipal = undefined;
}

/**
 * An attempt ended: with an answer (`200`: response metadata, a message or a trailers-only status)
 * or a failure (`connect-failure`, `tls-auth-failure`, `per-try-timeout`, `reset`). Over mTLS the
 * server's verified SPIFFE ID is its connection's, known once the connection was made.
 */
export function noteAttemptEnd(
  call: TelemetryCall,
  mesh: Mesh,
  connectionId: string,
  isMutual: boolean,
  result: 200 | string,
): void {
  if (isMutual) call.destinationPrincipal = transportState(mesh).peers.get(connectionId);
  call.attemptEnded(result);
}

/** The call ended with a status an upstream sent (HTTP 200, the status in grpc-status). */
export function endWithUpstreamStatus(call: TelemetryCall, code: number): void {
  call.grpcStatus = code;
  call.responded(200);
  call.end(null);
}

/**
 * The call ended with a status the mesh made (a fault, a limit, a timeout): still HTTP 200 for
 * gRPC. The mesh's status is trailers, no body: the response bytes stay those of the messages
 * already delivered (a stream's deadline may end it midway).
 */
export function endWithMeshStatus(call: TelemetryCall, status: MeshStatus): void {
  call.grpcStatus = status.code;
  call.answered(200, status.flags, status.errorCode, call.responseBytes);
  call.end(null);
}

/** The caller cancelled: Envoy's DC, with the response code it had when it gave up (0 before any). */
export function endCancelled(call: TelemetryCall, details: string, hadResponse: boolean): void {
  call.grpcStatus = Status.CANCELLED;
  if (hadResponse) call.responded(200);
  call.end(new CallCancelledError(details));
}

class CallCancelledError extends Error {
  readonly code = 'CANCELLED';

  constructor(details: string) {
    super(`the caller cancelled the call: ${details}`);
    this.name = 'CallCancelledError';
  }
}
