/**
 * How one attempt of a logical request ended, as the transport adapter (undici, grpc-js) reports
 * it to the retry controller. A tagged union: either the upstream answered with a status, or the
 * attempt failed in a way the mesh can name.
 */

/** Read access to response headers, by lower-case name: a Fetch `Headers` or a `Map` will do. */
export interface HeaderReader {
  get(name: string): string | null | undefined;
}

/**
 * Where a reset happened:
 * - `before-request`: the connection or stream broke before any byte of the request was written;
 * - `before-response`: the request was (at least partly) written, no response headers came back;
 * - `after-response-start`: response headers were already handed to the caller. Such a reset is
 *   never retried: the caller has the response, and a second one cannot replace it (Envoy never
 *   retries once it has started the downstream response either).
 */
export type ResetPhase = 'before-request' | 'before-response' | 'after-response-start';

export type AttemptOutcome =
  /**
   * Response headers arrived and have NOT yet been delivered to the caller (the adapter holds them
   * until the controller decides). `grpcStatus` is the `grpc-status` of a trailers-only response,
   * when there is one; a status that arrives in trailers after a streamed body is too late to retry.
   */
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: HeaderReader;
      readonly grpcStatus?: number;
    }
  /** TCP connect refused or timed out, or the TLS handshake failed: no request was sent. */
  | { readonly kind: 'connect-failure' }
  /**
   * HTTP/2 REFUSED_STREAM, or a GOAWAY whose last-stream-id is below this stream: the upstream
   * says it did not process the request (RFC 9113 §8.7), so it is safe to send again.
   */
  | { readonly kind: 'refused-stream' }
  | { readonly kind: 'reset'; readonly phase: ResetPhase }
  /** The route's perTryTimeout fired before response headers arrived. */
  | { readonly kind: 'per-try-timeout' }
  /** A connection-pool limit refused the attempt locally (Envoy's UO). Never retried. */
  | { readonly kind: 'overflow' }
  /** A circuit breaker is open (fail fast). Never retried: retrying a breaker drop is the storm it prevents. */
  | { readonly kind: 'circuit-open' }
  /** The route's fault injection aborted the request. Never retried: see classify-outcome.ts. */
  | { readonly kind: 'fault-injected' }
  /**
   * The TLS handshake failed on authentication: one side refused the other's certificate (expired,
   * untrusted, a SPIFFE ID the destination may not run as, none sent). Never retried: the same
   * peer refuses again, and a retry elsewhere would hide the misconfiguration (bad-inputs E1, E4).
   */
  | { readonly kind: 'tls-auth-failure' };

/**
 * Whether the request may have been seen by the upstream application — the line after which a
 * non-idempotent request (POST, PATCH) is not retried unless the route allows it.
 *
 * A request has reached the upstream once any byte of it may have been written to a connection
 * that the upstream accepted, unless the upstream has said it did not process it. So:
 * - never reached: connect-failure (no connection), refused-stream (the upstream refused the
 *   stream before processing it), tls-auth-failure (a server that refused the client's
 *   certificate never hands the request to its application, even when TLS 1.3 let the client
 *   write it first), a reset before any byte was written, and the local outcomes
 *   (overflow, circuit-open, fault-injected) that never left the process;
 * - reached: any response (even a 503 may have done work), a reset after the request was written,
 *   and a per-try timeout (the upstream may still be working on it).
 */
export function hasReachedUpstream(outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case 'connect-failure':
    case 'refused-stream':
    case 'tls-auth-failure':
    case 'overflow':
    case 'circuit-open':
    case 'fault-injected':
      return false;
    case 'reset':
      return outcome.phase !== 'before-request';
    case 'response':
    case 'per-try-timeout':
      return true;
  }
}
