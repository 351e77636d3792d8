/**
 * What one attempt to an endpoint tells outlier detection, in Envoy's two families:
 * externally originated (the upstream answered with an HTTP status) and locally originated (the
 * mesh could not talk to the upstream: connect failure, reset, timeout).
 */

/** A locally originated failure: no usable answer came back from the upstream. */
export type LocalOriginCause = 'connect-failure' | 'reset' | 'timeout';

export type GatewayStatus = 502 | 503 | 504;

export type OutlierOutcome =
  /** A non-error answer; `status` lets `outlierDetectionHttpErrorCodes` reclassify it. */
  | { readonly kind: 'success'; readonly status?: number }
  | { readonly kind: 'http-5xx'; readonly status: number }
  /** 502, 503 or 504: Envoy's "gateway errors", counted by consecutiveGatewayErrors too. */
  | { readonly kind: 'gateway-error'; readonly status: GatewayStatus }
  | { readonly kind: 'local-origin-failure'; readonly cause: LocalOriginCause };

export function isGatewayStatus(status: number): status is GatewayStatus {
  return status === 502 || status === 503 || status === 504;
}

const SUCCESS_200: OutlierOutcome = Object.freeze({ kind: 'success', status: 200 });

/**
 * The outcome an HTTP status stands for with Envoy's default classification (any 5xx is an error).
 * A cluster with `outlierDetectionHttpErrorCodes` reclassifies by status inside the detector, so
 * adapters may also call `OutlierDetector.recordHttpStatus` directly and skip this object.
 */
export function outcomeForStatus(status: number): OutlierOutcome {
  if (isGatewayStatus(status)) return { kind: 'gateway-error', status };
  if (status >= 500 && status <= 599) return { kind: 'http-5xx', status };
  return status === 200 ? SUCCESS_200 : { kind: 'success', status };
}
