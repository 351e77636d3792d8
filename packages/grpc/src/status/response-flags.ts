/**
 * Envoy's response flags, as @weft/http sends them in a header: here they travel in the trailing
 * metadata of every status the mesh itself produced, so a caller tells "the mesh said no" from
 * "the service said no" (`error.metadata.get('x-weft-response-flags')`). Several flags join with ",".
 */
export const RESPONSE_FLAGS_METADATA = 'x-weft-response-flags';

/** The stable WeftError code (`WEFT_ERR_*`) of a failure the mesh answered for itself. */
export const ERROR_CODE_METADATA = 'x-weft-error-code';

export const ResponseFlags = {
  /** No healthy upstream endpoint. */
  noHealthyUpstream: 'UH',
  /** Connection-pool or request limit overflow, or a call breaker open. */
  overflow: 'UO',
  /** Upstream request timeout (route timeout or perTryTimeout). */
  upstreamTimeout: 'UT',
  /** Retry limit exceeded; the last failure is returned. */
  retryLimitExceeded: 'URX',
  /** Upstream connection failure. */
  upstreamConnectionFailure: 'UF',
  /** Upstream connection reset. */
  upstreamReset: 'UR',
  /** Call aborted by fault injection. */
  faultInjected: 'FI',
  /** Call delayed by fault injection. */
  delayInjected: 'DI',
  /** No route for the method, or a host outside the registry under REGISTRY_ONLY. */
  noRoute: 'NR',
} as const;

export type ResponseFlag = (typeof ResponseFlags)[keyof typeof ResponseFlags];
