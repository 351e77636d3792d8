import { type AttemptOutcome, classifyTlsError, UpstreamTlsError } from '@weft/core';
import { explainTlsFailure } from './tls/tls-connector.ts';

/** Error codes undici and Node give when no connection could be made: nothing was sent. */
const CONNECT_FAILURES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Names how an attempt failed, for retryOn and outlier detection. A TLS handshake in which one
 * side refused the other's certificate is an authentication failure (`tls-auth-failure`, never
 * retried) — also when TLS 1.3 delivers the server's refusal on the first read, after the request
 * was written (bad-inputs E4); any other handshake failure is a connect failure. A failure before
 * the attempt's request started on a connection is a connect failure; any other is a reset that
 * happened after the request may have been written (so it counts as having reached the upstream).
 */
export function classifyTransportError(error: Error, hasRequestStarted: boolean): AttemptOutcome {
  if (classifyTlsError(error)?.isAuthentication === true) return { kind: 'tls-auth-failure' };
  // Any other TLS failure is a connect failure only when the connector reported it (the handshake
  // broke): a TLS error on an established connection may come after the request was written.
  if (error instanceof UpstreamTlsError) return { kind: 'connect-failure' };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECT_FAILURES.has(code)) return { kind: 'connect-failure' };
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string' && CONNECT_FAILURES.has(cause.code)) return { kind: 'connect-failure' };
  return { kind: 'reset', phase: hasRequestStarted ? 'before-response' : 'before-request' };
}

/**
 * Envoy's "transport failure reason" for a TLS failure (`TLS error: …`), for the response body the
 * mesh answers with and the access log; undefined for failures that are not TLS.
 */
export function transportFailureReason(error: Error): string | undefined {
  if (error instanceof UpstreamTlsError) return `TLS error: ${error.message}`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof UpstreamTlsError) return `TLS error: ${cause.message}`;
  const failure = classifyTlsError(error);
  return failure === undefined ? undefined : `TLS error: ${explainTlsFailure(failure, error)}`;
}
