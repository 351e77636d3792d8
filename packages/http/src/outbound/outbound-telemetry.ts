import type { Mesh, RouteRequest, TelemetryCall } from '@weft/core';
import type { Dispatcher } from 'undici';
import { type HeaderRecord, headerValue } from './request-headers.ts';

/** Writes trace-context headers into the request's header record, which every attempt sends. */
const HEADER_RECORD_SETTER = {
  set(carrier: HeaderRecord, key: string, value: string): void {
    carrier[key] = value;
  },
};

/**
 * Starts the telemetry of one meshed request (core's TelemetryCall: one client span, Istio's
 * metrics with reporter=source, an access-log line) and injects its trace context into the
 * request's headers. Undefined when nothing records: the usual case without an SDK, which costs
 * a few provider look-ups and allocates nothing.
 */
export function startOutboundTelemetry(
  mesh: Mesh,
  request: RouteRequest,
  headers: HeaderRecord,
  body: Dispatcher.DispatchOptions['body'],
): TelemetryCall | undefined {
  const call = mesh.telemetry.startClientCall(request, headers, HEADER_RECORD_SETTER);
  if (call !== undefined) call.requestBytes = requestBodyBytes(body, headers);
  return call;
}

/**
 * The request body's size: its content-length when declared, else the bytes of a string or
 * buffer body. A stream without a length counts 0 (its size is known only after it was sent).
 */
function requestBodyBytes(body: Dispatcher.DispatchOptions['body'], headers: HeaderRecord): number {
  const declared = headerValue(headers, 'content-length');
  if (declared !== undefined) {
    const length = Number(declared);
    if (Number.isInteger(length) && length >= 0) return length;
  }
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return 0;
}
