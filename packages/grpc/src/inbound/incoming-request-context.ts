import type { Metadata } from '@grpc/grpc-js';
import { type Clock, FORWARDED_HEADERS, type RequestContext } from '@weft/core';

/**
 * An inbound gRPC call as core's RequestContext, the context @weft/http's outbound calls read
 * (and @weft/http's inbound server sets for gRPC calls to read): the trace headers the call's
 * handler passes on (the server span's, else the caller's), Istio's other propagated headers as
 * received in the metadata (`x-request-id`, `end-user`, `baggage` …), and the caller's
 * `grpc-timeout` as a deadline on the mesh clock.
 *
 * Binary entries (`grpc-trace-bin`) travel as HTTP/2 carries them, base64 text; gRPC calls made
 * under the context turn them back into bytes (call-metadata.ts).
 */
export function incomingRequestContext(
  metadata: Metadata,
  traceHeaders: readonly (readonly [string, string])[],
  deadlineWallMs: number,
  clock: Clock,
  wallNowMs: number,
): RequestContext {
  const headers: (readonly [string, string])[] = [...traceHeaders];
  for (const name of FORWARDED_HEADERS) {
    const value = forwardedValue(metadata, name);
    if (value !== undefined) headers.push([name, value]);
  }
  const deadlineAtMs = Number.isFinite(deadlineWallMs)
    ? clock.now() + (deadlineWallMs - wallNowMs)
    : undefined;
  return { headers, deadlineAtMs, clock };
}

/** A propagated entry as one text value: several joined with ", "; bytes (the first) as base64. */
function forwardedValue(metadata: Metadata, name: string): string | undefined {
  const values = metadata.get(name);
  const first = values[0];
  if (first === undefined) return undefined;
  if (typeof first !== 'string') return first.toString('base64');
  return values.length === 1 ? first : values.filter((value) => typeof value === 'string').join(', ');
}
