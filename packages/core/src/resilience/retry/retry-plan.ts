import type { RetryPolicy } from '../../routing/retry-policy.ts';
import { type RetryConditionSet, retryConditionMask } from './retry-condition.ts';

/** Envoy's default back-off cap: ten times the base interval. */
export const BACKOFF_MAX_FACTOR = 10;

/**
 * The longest delay a server may ask for (Retry-After, reset headers) that Weft honours; a longer
 * request is capped to this. Envoy's rate-limited back-off discards such headers instead; capping
 * keeps the server's "wait" intent while bounding a hostile or buggy value ("retry in a day").
 * The route deadline still applies: a delay past it is never scheduled.
 */
export const DEFAULT_MAX_SERVER_DELAY_MS = 30_000;

/** A rate-limit reset header, as Envoy's `rate_limited_retry_back_off.reset_headers`. */
export interface RateLimitResetHeader {
  /** Lower-case header name, e.g. `x-ratelimit-reset`. */
  readonly name: string;
  /** `seconds`: a delta in seconds; `unix-timestamp`: seconds since the epoch. */
  readonly format: 'seconds' | 'unix-timestamp';
}

/** Weft's settings beyond Istio's HTTPRetry; every field has a safe default. */
export interface RetryPlanOptions {
  /** Names the route in events (`<virtual service>/<route>`). */
  readonly routeName?: string;
  /**
   * Retry non-idempotent requests (POST, PATCH, …) even after they reached the upstream. Istio's
   * HTTPRetry cannot say this, so it is off unless the route opts in explicitly.
   */
  readonly isNonIdempotentRetryAllowed?: boolean;
  /** Use a response's `Retry-After` as the delay before the retry (default true). */
  readonly isRetryAfterHonoured?: boolean;
  /** Cap on any server-requested delay (default DEFAULT_MAX_SERVER_DELAY_MS). */
  readonly maxServerDelayMs?: number;
  /** Extra headers carrying a server-requested delay, tried in order after Retry-After. */
  readonly resetHeaders?: readonly RateLimitResetHeader[];
  /** Response header names that satisfy `retriable-headers` when present (Envoy's retriable_headers). */
  readonly retriableHeaderNames?: readonly string[];
}

/**
 * Everything the retry controller needs for one route, computed when the configuration changes
 * and shared by every request on that route.
 */
export interface RetryPlan {
  readonly routeName: string;
  /** Retries after the first try; 0 disables retrying. */
  readonly attempts: number;
  readonly perTryTimeoutMs?: number;
  readonly conditions: RetryConditionSet;
  /** retryOn entries that are not conditions Weft knows; they never match (reported, not dropped). */
  readonly unknownConditions: readonly string[];
  readonly retriableStatusCodes: ReadonlySet<number>;
  readonly retriableHeaderNames: readonly string[];
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly isNonIdempotentRetryAllowed: boolean;
  readonly isRetryAfterHonoured: boolean;
  readonly maxServerDelayMs: number;
  readonly resetHeaders: readonly RateLimitResetHeader[];
}

export function compileRetryPlan(policy: RetryPolicy, options: RetryPlanOptions = {}): RetryPlan {
  const { mask, unknown } = retryConditionMask(policy.retryOn);
  const backoffBaseMs = Math.max(0, policy.backoffBaseMs);
  return Object.freeze({
    routeName: options.routeName ?? '',
    attempts: Math.max(0, Math.trunc(policy.attempts)),
    ...(policy.perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs: policy.perTryTimeoutMs }),
    conditions: mask,
    unknownConditions: Object.freeze(unknown),
    retriableStatusCodes: policy.retriableStatusCodes,
    retriableHeaderNames: Object.freeze(
      (options.retriableHeaderNames ?? []).map((name) => name.toLowerCase()),
    ),
    backoffBaseMs,
    backoffMaxMs: backoffBaseMs * BACKOFF_MAX_FACTOR,
    isNonIdempotentRetryAllowed: options.isNonIdempotentRetryAllowed ?? false,
    isRetryAfterHonoured: options.isRetryAfterHonoured ?? true,
    maxServerDelayMs: Math.max(0, options.maxServerDelayMs ?? DEFAULT_MAX_SERVER_DELAY_MS),
    resetHeaders: Object.freeze(
      (options.resetHeaders ?? []).map((header) =>
        Object.freeze({ ...header, name: header.name.toLowerCase() }),
      ),
    ),
  });
}
