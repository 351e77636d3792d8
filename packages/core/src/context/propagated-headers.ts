/**
 * The headers Istio's documentation asks every application to copy from an inbound request onto
 * the requests it makes while handling it, so that the mesh can stitch one trace and route by
 * user. Weft copies them itself (request-context.ts); an application lists its own with the
 * inbound option `propagateHeaders`.
 */

/**
 * Trace context in the formats Weft reads and writes (W3C and B3). When the inbound request has a
 * recording server span, these are written from that span instead of copied, so the next hop is
 * its child.
 */
export const TRACE_CONTEXT_HEADERS: readonly string[] = Object.freeze([
  'traceparent',
  'tracestate',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
]);

/**
 * Copied as received: the request id, Bookinfo's `end-user` (routes match on it), W3C baggage, and
 * the trace formats of other tracers Istio lists, which Weft passes through but never writes.
 */
export const FORWARDED_HEADERS: readonly string[] = Object.freeze([
  'x-request-id',
  'end-user',
  'baggage',
  'x-ot-span-context',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
]);
