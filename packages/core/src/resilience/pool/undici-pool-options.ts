import { type ConnectionPoolLimits, DEFAULT_MAX_CONCURRENT_STREAMS, ISTIO_UNLIMITED } from './pool-limits.ts';

/**
 * The undici `Pool` options (per endpoint origin) that carry a cluster's connection settings. The
 * shape is spelled out here so core stays free of undici; @weft/http spreads it into `new Pool()`
 * or an Agent `factory`. See docs/outlier-detection-and-limits.md for the reasoning.
 */
export interface UndiciPoolOptions {
  /** tcp.maxConnections; null = no limit. Per origin in undici; the limiter enforces it per cluster. */
  readonly connections: number | null;
  /** 1 normally; 0 turns keep-alive off (maxRequestsPerConnection: 1). */
  readonly pipelining: number;
  readonly connect: { readonly timeout: number };
  /** idleTimeout; absent → undici's default (4 s, lowered by the server's Keep-Alive hint). */
  readonly keepAliveTimeout?: number;
  /** Same as keepAliveTimeout, so a server hint cannot stretch the idle time past it. */
  readonly keepAliveMaxTimeout?: number;
  /** maxRequestsPerConnection when > 1: the connection is closed after that many requests. */
  readonly maxRequestsPerClient?: number;
  /** HTTP/2 only: maxConcurrentStreams when the DestinationRule sets it (undici's default is 100). */
  readonly maxConcurrentStreams?: number;
}

export function undiciPoolOptions(limits: ConnectionPoolLimits): UndiciPoolOptions {
  const perConnection = limits.maxRequestsPerConnection;
  const idle = limits.idleTimeoutMs;
  return Object.freeze({
    connections: limits.maxConnections >= ISTIO_UNLIMITED ? null : limits.maxConnections,
    pipelining: perConnection === 1 ? 0 : 1,
    connect: Object.freeze({ timeout: limits.connectTimeoutMs }),
    ...(idle === undefined || idle === 0 ? {} : { keepAliveTimeout: idle, keepAliveMaxTimeout: idle }),
    ...(perConnection > 1 ? { maxRequestsPerClient: perConnection } : {}),
    ...(limits.maxConcurrentStreams === DEFAULT_MAX_CONCURRENT_STREAMS
      ? {}
      : { maxConcurrentStreams: limits.maxConcurrentStreams }),
  });
}
