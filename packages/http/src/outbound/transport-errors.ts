import type { AttemptOutcome } from '@weft/core';

/** Error codes undici and Node give when no connection could be made: nothing was sent. */
const CONNECT_FAILURES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
]);

/**
 * Names how an attempt failed, for retryOn and outlier detection. A failure before the attempt's
 * request started on a connection is a connect failure; any other is a reset that happened after
 * the request may have been written (so it counts as having reached the upstream).
 */
export function classifyTransportError(error: Error, hasRequestStarted: boolean): AttemptOutcome {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECT_FAILURES.has(code)) return { kind: 'connect-failure' };
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string' && CONNECT_FAILURES.has(cause.code)) return { kind: 'connect-failure' };
  return { kind: 'reset', phase: hasRequestStarted ? 'before-response' : 'before-request' };
}
