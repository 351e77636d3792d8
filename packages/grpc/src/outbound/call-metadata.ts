import type { Metadata } from '@grpc/grpc-js';
import {
  type ClusterRuntime,
  type CompiledRoute,
  EDGE_REPORTER_HEADER,
  type HttpRouteSpec,
} from '@weft/core';
import { ENDPOINT_HINT_METADATA } from '../channel/endpoint-hint.ts';
import { currentIncomingCall } from '../inbound/incoming-call.ts';
import { hasOwnTrace } from './call-telemetry.ts';
import { applyMetadataOperations } from './metadata-operations.ts';

/**
 * The metadata one attempt sends: a copy of the caller's (never edited in place — callers reuse
 * their Metadata objects), with the route's and the destination's header operations, the trace
 * context — the call's client span when telemetry records one (`traceHeaders`), else the inbound
 * call's this one is made for, unless the caller set its own — and the endpoint hint (the
 * connection id) the channel's picker reads and removes. Telemetry's headers may hold only the
 * edge-report marker (EDGE_REPORTER_HEADER, no span): the inbound call's trace still goes then.
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
  if (!hasTelemetryTrace) {
    const inherited = currentIncomingCall()?.traceHeaders;
    if (inherited !== undefined && inherited.length > 0 && !hasOwnTrace(metadata)) {
      for (const [name, value] of inherited) metadata.set(name, value);
    }
  }
  metadata.set(ENDPOINT_HINT_METADATA, connectionId);
  return metadata;
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
