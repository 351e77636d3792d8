/**
 * Istio's standard metrics, with Istio's names, units, buckets and labels, so that dashboards
 * and alerts written for Istio read Weft's metrics unchanged.
 */

/** The metric selectors of the Telemetry API that name the HTTP/gRPC request metrics. */
export type IstioMetric = 'REQUEST_COUNT' | 'REQUEST_DURATION' | 'REQUEST_SIZE' | 'RESPONSE_SIZE';

export const ISTIO_METRICS: readonly IstioMetric[] = Object.freeze([
  'REQUEST_COUNT',
  'REQUEST_DURATION',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
]);

export const IstioMetricNames: Readonly<Record<IstioMetric, string>> = Object.freeze({
  REQUEST_COUNT: 'istio_requests_total',
  REQUEST_DURATION: 'istio_request_duration_milliseconds',
  REQUEST_SIZE: 'istio_request_bytes',
  RESPONSE_SIZE: 'istio_response_bytes',
});

/**
 * Envoy's default histogram buckets, which Istio's metrics keep unless a pod's annotation says
 * otherwise: the same boundaries for durations (ms) and for sizes (bytes).
 */
export const ISTIO_HISTOGRAM_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
]);

/** Istio's labels on every request metric, in Istio's order. */
export const ISTIO_LABELS = Object.freeze([
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const);

export type IstioLabel = (typeof ISTIO_LABELS)[number];

/** Istio's value for a label Weft cannot fill (no peer identity, no endpoint, ...). */
export const UNKNOWN = 'unknown';

/** Envoy's value of response_flags when there are none. */
export const NO_RESPONSE_FLAGS = '-';

/** Who reports: the caller's side (`source`, Istio's client proxy) or the callee's (`destination`). */
export type Reporter = 'source' | 'destination';
