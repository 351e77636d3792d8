import type { UpstreamTlsError } from '@weft/core';
import type { SecurePool } from './secure-pool.ts';

/**
 * How one attempt reaches its endpoint, decided by UpstreamTransport from the cluster's TLS plan
 * and the workload's identity, once per endpoint (and again when the identity changes):
 * - `plaintext`: `http://address:port` through the interceptor's own dispatcher;
 * - `tls`: `https://address:port` through a pool of connections made with exactly these TLS
 *   settings (secure-pool.ts);
 * - `refused`: nothing is sent, and the request is answered with `error` (mTLS required but no
 *   certificate, settings Weft cannot honour). Never downgraded to plaintext.
 */
export type EndpointTransport = PlaintextTransport | TlsTransport | RefusedTransport;

export interface PlaintextTransport {
  readonly kind: 'plaintext';
  readonly origin: string;
  readonly securityPolicy: 'none';
}

export interface TlsTransport {
  readonly kind: 'tls';
  readonly origin: string;
  /**
   * Sent with every request on the pool. undici reconnects when a request's servername differs
   * from its connection's, and would otherwise take it from each request's Host header.
   */
  readonly servername: string;
  readonly pool: SecurePool;
  /** `mutual_tls` when both sides presented certificates (ISTIO_MUTUAL, MUTUAL); else `none`. */
  readonly securityPolicy: 'mutual_tls' | 'none';
  /** This workload's SPIFFE ID when it presented its SVID (ISTIO_MUTUAL). */
  readonly sourcePrincipal: string | undefined;
}

export interface RefusedTransport {
  readonly kind: 'refused';
  readonly error: UpstreamTlsError;
}

/**
 * The error an attempt over `transport` really failed with: undici reports a connection the server
 * closed after refusing our certificate (a TLS alert on the first read, bad-inputs E4) as "other
 * side closed"; the pool kept the alert, found by the connection's local port.
 */
export function transportError(error: Error, transport: EndpointTransport): Error {
  if (transport.kind !== 'tls') return error;
  const localPort = (error as { socket?: { localPort?: unknown } }).socket?.localPort;
  if (typeof localPort !== 'number') return error;
  return transport.pool.takeRefusal(localPort) ?? error;
}
