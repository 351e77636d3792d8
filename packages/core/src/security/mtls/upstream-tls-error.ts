import { type ErrorCode, ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import type { TlsFailureReason } from './tls-failure.ts';

/**
 * A TLS connection to an upstream that could not be made, or used, with the settings in force:
 * `reason` says why in stable words, the message says it for people (the endpoint, the mode, the
 * SNI, what was expected and what came). Authentication failures carry WEFT_ERR_UNAUTHENTICATED
 * and are never retried; other handshake failures are connection failures
 * (WEFT_ERR_UPSTREAM_CONNECT_FAILURE). Never followed by a plaintext attempt.
 */
export class UpstreamTlsError extends WeftError {
  readonly reason: TlsFailureReason;
  readonly isAuthentication: boolean;

  constructor(
    reason: TlsFailureReason,
    isAuthentication: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(codeOf(reason, isAuthentication), message, options);
    this.name = 'UpstreamTlsError';
    this.reason = reason;
    this.isAuthentication = isAuthentication;
  }
}

function codeOf(reason: TlsFailureReason, isAuthentication: boolean): ErrorCode {
  if (reason === 'identity-unavailable') return ErrorCodes.identityUnavailable;
  if (reason === 'configuration') return ErrorCodes.configValidation;
  return isAuthentication ? ErrorCodes.unauthenticated : ErrorCodes.upstreamConnectFailure;
}
