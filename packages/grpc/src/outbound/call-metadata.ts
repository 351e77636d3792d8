import type { Metadata } from '@grpc/grpc-js';
import {
  type ClusterRuntime,
  type CompiledRoute,
  currentRequestContext,
  EDGE_REPORTER_HEADER,
  type HttpRouteSpec,
  type RequestContext,
  TRACE_CONTEXT_HEADERS,
} from '@weft/core';
import { ENDPOINT_HINT_METADATA } from '../channel/endpoint-hint.ts';
import { currentIncomingCall } from '../inbound/incoming-call.ts';
import { hasOwnTrace } from './call-telemetry.ts';
import { applyMetadataOperations } from './metadata-operations.ts';

/**
 * The metadata one attempt sends: a copy of the caller's (never edited in place — callers reuse
 * their Metadata objects), with the route's and the destination's header operations, the trace
 * context — the call's client span when telemetry records one (`traceHeaders`), else the inbound
 * call's this one is made for, unless the caller set its own — Istio's other propagated headers
 * of the inbound request (core's RequestContext: `x-request-id`, `end-user`, `baggage` …) the
 * caller did not set, and the endpoint hint (the connection id) the channel's picker reads and
 * removes. Telemetry's headers may hold only the edge-report marker (EDGE_REPORTER_HEADER, no
 * span): the inbound call's trace still goes then. The inbound request is a gRPC call's (its
 * IncomingCall) or, with none, whatever set the RequestContext (an HTTP request's, @weft/http).
 */
export function attemptMetadata(
  callerMetadata: Metadata,
  route: CompiledRoute<HttpRouteSpec>,
  runtime: ClusterRuntime,
  connectionId: string,
  traceHeaders: readonly (readonly [string, string])[] | undefined,
): Metadata {
  const metadata = callerMetadata.clone();
  const spec = route.spec;
  if (spec?.headers?.request !== undefined || spec?.route?.some((entry) => entry.headers?.request)) {
    applyMetadataOperations(metadata, destinationOf(spec, runtime)?.headers?.request);
    applyMetadataOperations(metadata, spec.headers?.request);
  }
  let hasTelemetryTrace = false;
  if (traceHeaders !== undefined) {
    for (const [name, value] of traceHeaders) {
      metadata.set(name, value);
      if (name !== EDGE_REPORTER_HEADER) hasTelemetryTrace = true;
    }
  }
  const context = currentRequestContext();
  if (!hasTelemetryTrace) {
    const incoming = currentIncomingCall();
    if (incoming !== undefined) {
      const inherited = incoming.traceHeaders;
      if (inherited !== undefined && inherited.length > 0 && !hasOwnTrace(metadata)) {
        for (const [name, value] of inherited) metadata.set(name, value);
      }
    } else if (context !== undefined && !hasOwnTrace(metadata)) {
      addContextHeaders(metadata, context, true);
    }
  }
  if (context !== undefined) addContextHeaders(metadata, context, false);
  metadata.set(ENDPOINT_HINT_METADATA, connectionId);
  return metadata;
}

const TRACE_HEADERS: ReadonlySet<string> = new Set(TRACE_CONTEXT_HEADERS);

/**
 * Copies the RequestContext's trace headers (`isTrace`) or its other propagated headers into
 * `metadata` where the caller set no entry of that name. A `-bin` entry travels as base64 text
 * (as HTTP/2 carries it) and goes back to bytes. An entry gRPC cannot carry (a value with
 * characters metadata refuses) is left out rather than failing the call: it is context, not the
 * caller's request.
 */
function addContextHeaders(metadata: Metadata, context: RequestContext, isTrace: boolean): void {
  for (const [name, value] of context.headers) {
    if (TRACE_HEADERS.has(name) !== isTrace || metadata.get(name).length > 0) continue;
    try {
      if (name.endsWith('-bin')) metadata.set(name, Buffer.from(value, 'base64'));
      else metadata.set(name, value);
    } catch {
      // grpc-js validated the entry and refused it (see above); nothing of the call depends on it.
    }
  }
}

/**
 * The authority a call is sent with: the route's `rewrite.authority`, or a request header
 * operation that sets `:authority` (or `host`), or the channel's own.
 */
export function callAuthority(spec: HttpRouteSpec | undefined, authority: string): string {
  const set = spec?.headers?.request?.set;
  return spec?.rewrite?.authority ?? set?.[':authority'] ?? set?.host ?? authority;
}

/** The route's destination entry that led to a cluster, for its own header operations. */
function destinationOf(spec: HttpRouteSpec, runtime: ClusterRuntime) {
  const { host, subset } = runtime.cluster;
  return spec.route?.find((entry) => entry.destination.host === host && entry.destination.subset === subset);
}
