import type { ServerOptions as HttpServerOptions } from 'node:http';

/**
 * How long the inbound server waits for slow clients (bad-inputs C3, slow loris). Node's own
 * defaults give a client 60 s to send a request head and 300 s for the whole request, checked
 * only every 30 s, so a client dripping one byte at a time holds a connection (and its parser)
 * for up to 90 s per head. A mesh's callers are services on the same network: a head arrives in
 * one packet and a body at network speed, so these bounds are tight and still far above any
 * honest caller.
 */
export const INBOUND_SERVER_LIMITS = {
  /**
   * The whole request head. Envoy's `request_headers_timeout` is off unless set; 10 s is a
   * hundred times what a head takes on a loaded network and a sixth of node's 60 s.
   */
  headersTimeoutMs: 10_000,
  /**
   * The whole request, head and body (Envoy's edge `request_timeout` is 300 s; a mesh request
   * body that takes a minute to arrive is an attack or a stalled peer). 0 turns it off, for
   * services that stream request bodies.
   */
  requestTimeoutMs: 60_000,
  /** An idle keep-alive connection between requests (node's default; callers' pools reuse sooner). */
  keepAliveTimeoutMs: 5_000,
  /** Node checks the two timeouts above on this interval: at most this much late. */
  maxCheckingIntervalMs: 1_000,
  /** A TLS handshake (node: 120 s): a client that starts one and stalls is closed after this. */
  tlsHandshakeTimeoutMs: 10_000,
} as const;

/** Node refuses a checking interval this small, and polling faster buys nothing. */
const MIN_CHECKING_INTERVAL_MS = 50;

/**
 * node:http server options with Weft's slow-client limits, each overridden by the caller's own
 * `given` option of the same name. A `requestTimeout` below the default head timeout also bounds
 * the head (node refuses a head timeout longer than the request timeout).
 */
export function inboundHttpServerOptions(given: HttpServerOptions = {}): HttpServerOptions {
  const requestTimeout = given.requestTimeout ?? INBOUND_SERVER_LIMITS.requestTimeoutMs;
  const headersTimeout =
    given.headersTimeout ??
    (requestTimeout > 0
      ? Math.min(INBOUND_SERVER_LIMITS.headersTimeoutMs, requestTimeout)
      : INBOUND_SERVER_LIMITS.headersTimeoutMs);
  const bounds = [headersTimeout, requestTimeout].filter((timeoutMs) => timeoutMs > 0);
  // A quarter of the tighter bound: a slow client is dropped at most 25% late.
  const checkingIntervalMs = Math.max(
    MIN_CHECKING_INTERVAL_MS,
    Math.min(INBOUND_SERVER_LIMITS.maxCheckingIntervalMs, Math.floor(Math.min(...bounds, Infinity) / 4)),
  );
  return {
    keepAliveTimeout: INBOUND_SERVER_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs,
    ...given,
    requestTimeout,
    headersTimeout,
  };
}
