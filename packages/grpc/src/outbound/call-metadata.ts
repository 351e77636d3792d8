import type { Metadata } from '@grpc/grpc-js';
import type { ClusterRuntime, CompiledRoute, HttpRouteSpec } from '@weft/core';
import { ENDPOINT_HINT_METADATA } from '../channel/endpoint-hint.ts';
import { currentIncomingCall } from '../inbound/incoming-call.ts';
import { applyMetadataOperations } from './metadata-operations.ts';

/**
 * The metadata one attempt sends: a copy of the caller's (never edited in place — callers reuse
 * their Metadata objects), with the route's and the destination's header operations, the trace
 * context of the inbound call this one is made for (unless the caller set its own), and the
 * endpoint hint the channel's picker reads and removes.
 */
export function attemptMetadata(
  callerMetadata: Metadata,
  route: CompiledRoute<HttpRouteSpec>,
  runtime: ClusterRuntime,
  endpointKey: string,
): Metadata {
  const metadata = callerMetadata.clone();
  const spec = route.spec;
  if (spec?.headers?.request !== undefined || spec?.route?.some((entry) => entry.headers?.request)) {
    applyMetadataOperations(metadata, destinationOf(spec, runtime)?.headers?.request);
    applyMetadataOperations(metadata, spec.headers?.request);
  }
  const incoming = currentIncomingCall();
  if (incoming?.traceparent !== undefined && metadata.get('traceparent').length === 0) {
    metadata.set('traceparent', incoming.traceparent);
    if (incoming.tracestate !== undefined) metadata.set('tracestate', incoming.tracestate);
  }
  metadata.set(ENDPOINT_HINT_METADATA, endpointKey);
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
