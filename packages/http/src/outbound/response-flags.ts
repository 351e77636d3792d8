/**
 * Envoy's response flags, carried on every response the mesh itself produced (or shaped), so an
 * application tells "the mesh said no" from "the service said no". Several flags join with ",".
 */
export const RESPONSE_FLAGS_HEADER = 'x-weft-response-flags';

/** The stable WeftError code (`WEFT_ERR_*`) of a failure the mesh answered for itself. */
export const ERROR_CODE_HEADER = 'x-weft-error-code';

export const ResponseFlags = {
  /** No healthy upstream endpoint. */
  noHealthyUpstream: 'UH',
  /** Connection-pool or request limit overflow. */
  overflow: 'UO',
  /** Upstream request timeout. */
  upstreamTimeout: 'UT',
  /** Retry limit exceeded; the last failure is returned. */
  retryLimitExceeded: 'URX',
  /** Upstream connection failure. */
  upstreamConnectionFailure: 'UF',
  /** Upstream connection reset. */
  upstreamReset: 'UR',
  /** Request aborted by fault injection. */
  faultInjected: 'FI',
  /** Request delayed by fault injection. */
  delayInjected: 'DI',
  /** No route for the request. */
  noRoute: 'NR',
  /** Call-level circuit breaker open. */
  circuitOpen: 'UO',
  /** No cluster for the host: the mesh has no configuration from its control plane yet. */
  controlPlaneUnavailable: 'NC',
  /** Outbound traffic policy refused a host the mesh does not know. */
  registryOnly: 'NR',
} as const;

export type ResponseFlag = (typeof ResponseFlags)[keyof typeof ResponseFlags];
