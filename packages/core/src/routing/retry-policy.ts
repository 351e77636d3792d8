/**
 * A route's retry policy with Istio's defaults applied. With no `retries` on the route, Istio
 * (and so Weft) retries twice on connect-failure, refused-stream, unavailable, cancelled and
 * retriable-status-codes (503). A `retries` block without `attempts`, or with `attempts: 0`,
 * disables retries, as Istio's translation does.
 */
export interface RetryPolicy {
  /** Retries after the first try; 0 disables retrying. */
  readonly attempts: number;
  readonly perTryTimeoutMs?: number;
  /** Envoy/Istio retry conditions, e.g. `5xx`, `gateway-error`, `reset`, `connect-failure`. */
  readonly retryOn: ReadonlySet<string>;
  /** Status codes retried under `retriable-status-codes` (and bare numbers in `retryOn`). */
  readonly retriableStatusCodes: ReadonlySet<number>;
  readonly retryRemoteLocalities: boolean;
  readonly retryIgnorePreviousHosts: boolean;
  /** Base interval of exponential backoff; Envoy's default is 25 ms. */
  readonly backoffBaseMs: number;
}

export interface RetrySpec {
  readonly attempts?: number;
  readonly perTryTimeout?: number;
  readonly retryOn?: string;
  readonly retryRemoteLocalities?: boolean;
  readonly retryIgnorePreviousHosts?: boolean;
  readonly backoff?: number;
}

const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const DEFAULT_BACKOFF_BASE_MS = 25;
const DEFAULT_ATTEMPTS = 2;

export function compileRetryPolicy(spec: RetrySpec | undefined): RetryPolicy {
  const retryOn = new Set<string>();
  const retriableStatusCodes = new Set<number>();
  const conditions = spec?.retryOn ?? DEFAULT_RETRY_ON;
  for (const raw of conditions.split(',')) {
    const condition = raw.trim();
    if (condition === '') continue;
    if (/^\d{3}$/.test(condition)) {
      // Istio accepts status codes inside retryOn and turns them into retriable-status-codes.
      retriableStatusCodes.add(Number(condition));
      retryOn.add('retriable-status-codes');
    } else {
      retryOn.add(condition);
    }
  }
  // Istio's default conditions bring their own code (503); a route that sets retryOn replaces
  // both, so retriable-status-codes without codes retries on none, as Istio translates it.
  if (spec?.retryOn === undefined) retriableStatusCodes.add(503);
  return {
    attempts: spec === undefined ? DEFAULT_ATTEMPTS : (spec.attempts ?? 0),
    ...(spec?.perTryTimeout === undefined ? {} : { perTryTimeoutMs: spec.perTryTimeout }),
    retryOn,
    retriableStatusCodes,
    retryRemoteLocalities: spec?.retryRemoteLocalities ?? false,
    retryIgnorePreviousHosts: spec?.retryIgnorePreviousHosts ?? true,
    backoffBaseMs: spec?.backoff ?? DEFAULT_BACKOFF_BASE_MS,
  };
}
