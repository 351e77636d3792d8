import { type ErrorCode, ErrorCodes } from '../errors/weft-error.ts';

/** Envoy's %RESPONSE_CODE_DETAILS% for a response that came from the upstream. */
export const VIA_UPSTREAM = 'via_upstream';

/**
 * Envoy's %RESPONSE_CODE_DETAILS% for a response the mesh made itself, from the failure's
 * WeftError code; a configured answer (redirect, direct response) has no code and reads
 * `direct_response`. Weft-only failures get `weft_`-prefixed details.
 */
export function responseCodeDetails(errorCode: ErrorCode | undefined, flags: readonly string[]): string {
  switch (errorCode) {
    case undefined:
      return 'direct_response';
    case ErrorCodes.noRoute:
      return 'route_not_found';
    case ErrorCodes.notInRegistry:
      return 'cluster_not_found';
    case ErrorCodes.noHealthyUpstream:
      return 'no_healthy_upstream';
    case ErrorCodes.faultInjected:
      return 'fault_filter_abort';
    case ErrorCodes.timeout:
      return 'response_timeout';
    case ErrorCodes.perTryTimeout:
      return 'upstream_per_try_timeout';
    case ErrorCodes.circuitOpen:
      return 'weft_circuit_open';
    case ErrorCodes.upstreamOverflow:
      return 'upstream_reset_before_response_started{overflow}';
    case ErrorCodes.upstreamConnectFailure:
      return 'upstream_reset_before_response_started{connection_failure}';
    case ErrorCodes.upstreamReset:
      return 'upstream_reset_before_response_started{remote_reset}';
    case ErrorCodes.retriesExhausted:
      // The last attempt's failure says what happened; URX says it was retried.
      if (flags.includes('UF')) return 'upstream_reset_before_response_started{connection_failure}';
      if (flags.includes('UT')) return 'upstream_per_try_timeout';
      return 'upstream_reset_before_response_started{remote_reset}';
    case ErrorCodes.unauthenticated:
      // An upstream connection refused in its TLS handshake, as Envoy details it.
      if (flags.includes('UF')) return 'upstream_reset_before_response_started{connection_failure,TLS_error}';
      return 'weft_unauthenticated';
    case ErrorCodes.permissionDenied:
      return 'rbac_access_denied';
    default:
      return `weft_${errorCode.slice('WEFT_ERR_'.length).toLowerCase()}`;
  }
}
