import type { ServerDelaySource } from './retry-after.ts';
import type { BudgetLimit } from './retry-budget.ts';
import type { RetryCondition } from './retry-condition.ts';

/**
 * Why a failed attempt is not retried. Stable strings: they label events and metrics.
 * - `not-retriable`: the outcome matches none of the route's retryOn conditions (or retries are off);
 * - `attempts-exhausted`: the route's `attempts` retries were all used;
 * - `not-idempotent`: a non-idempotent request reached the upstream and the route did not allow it;
 * - `body-not-replayable`: the body was streamed or too large to buffer, so it cannot be resent;
 * - `deadline`: the retry's back-off would end at or past the request's deadline;
 * - `budget-exhausted`: the cluster's retry budget or maxRetries cap is spent.
 */
export type RetryRefusalReason =
  | 'not-retriable'
  | 'attempts-exhausted'
  | 'not-idempotent'
  | 'body-not-replayable'
  | 'deadline'
  | 'budget-exhausted';

export type RetryDelaySource = 'backoff' | ServerDelaySource;

export interface RetryGranted {
  readonly shouldRetry: true;
  /** The attempt about to run: 2 for the first retry. */
  readonly attempt: number;
  /** Wait this long (on the injected Clock) before sending it. */
  readonly delayMs: number;
  readonly delaySource: RetryDelaySource;
  /** The most specific retryOn condition the failed attempt satisfied. */
  readonly condition: RetryCondition;
}

export interface RetryRefused {
  readonly shouldRetry: false;
  readonly reason: RetryRefusalReason;
  /** For `budget-exhausted`: which limit said no. */
  readonly budgetLimit?: BudgetLimit;
}

export type RetryDecision = RetryGranted | RetryRefused;

/** Preallocated refusals: saying no costs no allocation on the request path. */
export const REFUSED: Readonly<Record<Exclude<RetryRefusalReason, 'budget-exhausted'>, RetryRefused>> =
  Object.freeze({
    'not-retriable': Object.freeze({ shouldRetry: false, reason: 'not-retriable' }),
    'attempts-exhausted': Object.freeze({ shouldRetry: false, reason: 'attempts-exhausted' }),
    'not-idempotent': Object.freeze({ shouldRetry: false, reason: 'not-idempotent' }),
    'body-not-replayable': Object.freeze({ shouldRetry: false, reason: 'body-not-replayable' }),
    deadline: Object.freeze({ shouldRetry: false, reason: 'deadline' }),
  });

export const BUDGET_REFUSED: Readonly<Record<BudgetLimit, RetryRefused>> = Object.freeze({
  'max-retries': Object.freeze({
    shouldRetry: false,
    reason: 'budget-exhausted',
    budgetLimit: 'max-retries',
  }),
  concurrency: Object.freeze({ shouldRetry: false, reason: 'budget-exhausted', budgetLimit: 'concurrency' }),
  rate: Object.freeze({ shouldRetry: false, reason: 'budget-exhausted', budgetLimit: 'rate' }),
});
