import type { ClusterPolicy } from '../../config/compile/cluster.ts';

/** A cluster's `connectionPool`, as the schema normalized it (durations in ms). */
export type ConnectionPoolPolicy = NonNullable<ClusterPolicy['connectionPool']>;

/** Istio's value for "no limit" (2^32−1): what every unset circuit-breaker threshold becomes. */
export const ISTIO_UNLIMITED = 4_294_967_295;

/**
 * Envoy's own circuit-breaker defaults, for reference and for callers that want them: Istio never
 * lets them apply, it sends ISTIO_UNLIMITED for every threshold a DestinationRule leaves unset.
 */
export const ENVOY_DEFAULT_THRESHOLDS = Object.freeze({
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
});

/** Istio's mesh-wide `connectTimeout` default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Istio's `maxConcurrentStreams` default (2^31−1): unlimited streams per HTTP/2 connection. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 2_147_483_647;

/** One cluster's limits (Envoy circuit-breaker thresholds) and connection settings. */
export interface ConnectionPoolLimits {
  /** tcp.maxConnections: connections to the whole cluster. */
  readonly maxConnections: number;
  /** http.http1MaxPendingRequests: requests waiting for a free connection. */
  readonly maxPendingRequests: number;
  /** http.http2MaxRequests: requests in flight to the whole cluster (HTTP/1.1 and HTTP/2). */
  readonly maxRequests: number;
  /** http.maxRetries: retries in flight to the whole cluster. */
  readonly maxRetries: number;
  /** http.maxRequestsPerConnection; 0 = unlimited, 1 = no keep-alive. */
  readonly maxRequestsPerConnection: number;
  /** http.maxConcurrentStreams: streams per HTTP/2 connection. */
  readonly maxConcurrentStreams: number;
  /** tcp.connectTimeout, or the mesh default. */
  readonly connectTimeoutMs: number;
  /**
   * http.idleTimeout, else tcp.idleTimeout (Istio's precedence); undefined when neither is set.
   * 0 means "disabled" (only tcp.idleTimeout can say so).
   */
  readonly idleTimeoutMs?: number;
}

export interface PoolLimitsOptions {
  /** The mesh's connectTimeout (MeshConfig); default 10 s. */
  readonly defaultConnectTimeoutMs?: number;
}

/**
 * Istio's translation (pilot `applyConnectionPool`): every threshold starts at 2^32−1 and a field
 * replaces it only when it is > 0, so 0 means "unset" for maxConnections, http1MaxPendingRequests,
 * http2MaxRequests and maxRetries (Istio cannot tell 0 from unset).
 */
export function resolvePoolLimits(
  policy: ConnectionPoolPolicy | undefined,
  options: PoolLimitsOptions = {},
): ConnectionPoolLimits {
  const tcp = policy?.tcp;
  const http = policy?.http;
  const idleTimeoutMs = http?.idleTimeout ?? tcp?.idleTimeout;
  return Object.freeze({
    maxConnections: limitOr(tcp?.maxConnections, ISTIO_UNLIMITED),
    maxPendingRequests: limitOr(http?.http1MaxPendingRequests, ISTIO_UNLIMITED),
    maxRequests: limitOr(http?.http2MaxRequests, ISTIO_UNLIMITED),
    maxRetries: limitOr(http?.maxRetries, ISTIO_UNLIMITED),
    maxRequestsPerConnection: Math.max(0, http?.maxRequestsPerConnection ?? 0),
    maxConcurrentStreams: limitOr(http?.maxConcurrentStreams, DEFAULT_MAX_CONCURRENT_STREAMS),
    connectTimeoutMs: tcp?.connectTimeout ?? options.defaultConnectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
  });
}

function limitOr(value: number | undefined, fallback: number): number {
  return value === undefined || !(value > 0) ? fallback : value;
}
