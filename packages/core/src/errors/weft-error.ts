/**
 * The one catalogue of Weft's error codes. Codes are stable API: users match on them, so a code
 * is never renamed or reused for another failure.
 */
export const ErrorCodes = {
  configValidation: 'WEFT_ERR_CONFIG_VALIDATION',
  configLimit: 'WEFT_ERR_CONFIG_LIMIT',
  noHealthyUpstream: 'WEFT_ERR_NO_HEALTHY_UPSTREAM',
  circuitOpen: 'WEFT_ERR_CIRCUIT_OPEN',
  timeout: 'WEFT_ERR_TIMEOUT',
  /** The deadline the inbound request brought (RequestContext) passed before an outbound call ended. */
  deadlineExceeded: 'WEFT_ERR_DEADLINE_EXCEEDED',
  perTryTimeout: 'WEFT_ERR_PER_TRY_TIMEOUT',
  retriesExhausted: 'WEFT_ERR_RETRIES_EXHAUSTED',
  faultInjected: 'WEFT_ERR_FAULT_INJECTED',
  noRoute: 'WEFT_ERR_NO_ROUTE',
  notInRegistry: 'WEFT_ERR_NOT_IN_REGISTRY',
  upstreamOverflow: 'WEFT_ERR_UPSTREAM_OVERFLOW',
  upstreamConnectFailure: 'WEFT_ERR_UPSTREAM_CONNECT_FAILURE',
  upstreamReset: 'WEFT_ERR_UPSTREAM_RESET',
  unauthenticated: 'WEFT_ERR_UNAUTHENTICATED',
  permissionDenied: 'WEFT_ERR_PERMISSION_DENIED',
  controlPlaneUnavailable: 'WEFT_ERR_CONTROL_PLANE_UNAVAILABLE',
  /** No workload certificate: not issued yet, refused by the agent's CA, or expired. */
  identityUnavailable: 'WEFT_ERR_IDENTITY_UNAVAILABLE',
  /**
   * An inbound request refused before any policy: a path that cannot be normalized, no Host or two,
   * headers with underscores, too many headers.
   */
  badRequest: 'WEFT_ERR_BAD_REQUEST',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base of every error Weft throws; `code` is stable, `cause` always chains the underlying error. */
export class WeftError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeftError';
    this.code = code;
  }
}
