import type { ClusterPolicy } from '../../config/compile/cluster.ts';

/**
 * Envoy's retry budget (Istio DestinationRule `trafficPolicy.retryBudget`): concurrent retries to
 * a cluster may not exceed `percent` of its active requests, but are always allowed up to
 * `minRetryConcurrency`. With `budgetIntervalMs` > 0, requests started within the interval count
 * as active too.
 */
export interface ConcurrencyBudget {
  readonly percent: number;
  readonly minRetryConcurrency: number;
  readonly budgetIntervalMs: number;
}

/**
 * A Finagle/Linkerd-style budget over time: retries within the last `ttlMs` may not exceed
 * `ratio` × requests within it plus a floor of `minRetriesPerSecond` × ttl seconds.
 */
export interface RateBudget {
  readonly ratio: number;
  readonly minRetriesPerSecond: number;
  readonly ttlMs: number;
}

export interface RetryBudgetSettings {
  /** Where the budget came from: the DestinationRule's retryBudget or Weft's default. */
  readonly source: 'destination-rule' | 'default';
  readonly concurrency: ConcurrencyBudget;
  readonly rate?: RateBudget;
  /** connectionPool.http.maxRetries: a hard cap on concurrent retries, whatever the budget says. */
  readonly maxRetries?: number;
}

/**
 * Weft's default when a cluster has no `retryBudget`: both budgets, so that retries can add at most
 * ~20% to the load on a degraded upstream, whichever way its failures come.
 * - Envoy's concurrency budget (20%, at least 3) bounds retries that are slow (timeouts, slow
 *   5xx) — but retries that fail fast (connect-failure, an instant 503) hold a slot for
 *   microseconds, so concurrency alone lets them run at any rate.
 * - The Linkerd budget (20% of requests over 10 s, floor 10 retries/s) bounds their rate, which is
 *   the load the upstream sees; its floor lets a quiet client still retry an occasional failure.
 * Neither is tight enough alone; each covers the other's blind spot. No default `maxRetries` cap:
 * Istio sets Envoy's to 2^32−1 because a small fixed cap (Envoy's 3) turns pod churn into 503s.
 */
export const DEFAULT_RETRY_BUDGET: RetryBudgetSettings = Object.freeze({
  source: 'default',
  concurrency: Object.freeze({ percent: 20, minRetryConcurrency: 3, budgetIntervalMs: 0 }),
  rate: Object.freeze({ ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 }),
});

/** Istio's defaults for an explicit retryBudget's unset fields. */
const ISTIO_BUDGET_PERCENT = 20;
const ISTIO_MIN_RETRY_CONCURRENCY = 3;

/**
 * The budget for a cluster's policy, computed once per cluster per configuration. A DestinationRule
 * `retryBudget` replaces the default budget entirely (as it replaces Envoy's), with Istio's
 * defaults for unset fields: `percent` 20, `minRetryConcurrency` 3 (0 counts as unset, as Istio
 * reads it), `budgetInterval` 0. `maxRetries` applies on top of either budget; Envoy ignores
 * max_retries once a retry budget is set, Weft keeps both because a cap only makes retries safer.
 * `maxRetries: 0` counts as unset, as in Istio (proto3 cannot tell them apart).
 */
export function retryBudgetSettings(policy: ClusterPolicy | undefined): RetryBudgetSettings {
  const maxRetries = policy?.connectionPool?.http?.maxRetries;
  const budget = policy?.retryBudget;
  if (budget === undefined) {
    return maxRetries !== undefined && maxRetries > 0
      ? Object.freeze({ ...DEFAULT_RETRY_BUDGET, maxRetries })
      : DEFAULT_RETRY_BUDGET;
  }
  const minRetryConcurrency = budget.minRetryConcurrency ?? 0;
  return Object.freeze({
    source: 'destination-rule',
    concurrency: Object.freeze({
      percent: budget.percent ?? ISTIO_BUDGET_PERCENT,
      minRetryConcurrency: minRetryConcurrency > 0 ? minRetryConcurrency : ISTIO_MIN_RETRY_CONCURRENCY,
      budgetIntervalMs: budget.budgetInterval ?? 0,
    }),
    ...(maxRetries !== undefined && maxRetries > 0 ? { maxRetries } : {}),
  });
}
