import type { BudgetLimit } from './retry-budget.ts';
import type { RetryCondition } from './retry-condition.ts';
import type { RetryDelaySource, RetryRefusalReason } from './retry-decision.ts';

/** A retry was granted and will run after `delayMs`. */
export interface RetryScheduledEvent {
  readonly type: 'retry-scheduled';
  readonly route: string;
  /** The cluster whose attempt failed (and whose budget the retry is charged to). */
  readonly cluster: string;
  /** The attempt about to run: 2 for the first retry. */
  readonly attempt: number;
  readonly condition: RetryCondition;
  readonly delayMs: number;
  readonly delaySource: RetryDelaySource;
  /** Clock time of the decision. */
  readonly atMs: number;
}

/**
 * An attempt failed in a way the route's retryOn covers, and it was not retried. (Outcomes that
 * match no condition — successes included — emit nothing: there was no retry to refuse.)
 */
export interface RetryRefusedEvent {
  readonly type: 'retry-refused';
  readonly route: string;
  readonly cluster: string;
  /** Attempts made so far, the failed one included. */
  readonly attempts: number;
  readonly condition: RetryCondition;
  readonly reason: Exclude<RetryRefusalReason, 'not-retriable'>;
  readonly budgetLimit?: BudgetLimit;
  readonly atMs: number;
}

export type RetryEvent = RetryScheduledEvent | RetryRefusedEvent;

/** What the controller needs of an EventChannel<RetryEvent>; it builds events only if someone listens. */
export interface RetryEventSink {
  readonly hasListeners: boolean;
  emit(event: RetryEvent): void;
}
