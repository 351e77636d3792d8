import type { Clock } from '../../time/clock.ts';
import { DEFAULT_RETRY_BUDGET, type RetryBudgetSettings } from './retry-budget-settings.ts';
import { SlidingWindowCounter } from './sliding-window-counter.ts';

/** Absorbs binary rounding (0.2 × 35 is 7.000000000000001, 0.29 × 100 is 28.999999999999996). */
const FLOAT_SLACK = 1e-9;

/** Which limit refused a retry: the maxRetries cap, the concurrency budget or the rate budget. */
export type BudgetLimit = 'max-retries' | 'concurrency' | 'rate';

/**
 * The retry budget of one cluster, shared by every request to it. It counts the cluster's active
 * attempts (first tries and retries in flight) and its active retries (from the moment a retry is
 * granted — back-off included — until that retry's attempt ends), and grants a retry only while
 * every limit in its settings allows one more.
 *
 * One instance lives as long as the cluster does; `reconfigure` swaps the settings when a new
 * configuration arrives without losing the counts of requests in flight.
 */
export class RetryBudget {
  readonly clusterName: string;
  readonly #clock: Clock;
  #settings: RetryBudgetSettings = DEFAULT_RETRY_BUDGET;
  #activeAttempts = 0;
  #activeRetries = 0;
  /** Attempts started within concurrency.budgetIntervalMs (only when that is > 0). */
  #startedInInterval: SlidingWindowCounter | undefined;
  /** First tries and granted retries within rate.ttlMs (only with a rate budget). */
  #requestsInTtl: SlidingWindowCounter | undefined;
  #retriesInTtl: SlidingWindowCounter | undefined;

  constructor(clusterName: string, settings: RetryBudgetSettings, clock: Clock) {
    this.clusterName = clusterName;
    this.#clock = clock;
    this.reconfigure(settings);
  }

  get settings(): RetryBudgetSettings {
    return this.#settings;
  }

  get activeAttempts(): number {
    return this.#activeAttempts;
  }

  get activeRetries(): number {
    return this.#activeRetries;
  }

  reconfigure(settings: RetryBudgetSettings): void {
    const previous = this.#settings;
    this.#settings = settings;
    const intervalMs = settings.concurrency.budgetIntervalMs;
    if (intervalMs <= 0) this.#startedInInterval = undefined;
    else if (this.#startedInInterval === undefined || previous.concurrency.budgetIntervalMs !== intervalMs) {
      this.#startedInInterval = new SlidingWindowCounter(this.#clock, intervalMs);
    }
    const rate = settings.rate;
    if (rate === undefined) {
      this.#requestsInTtl = undefined;
      this.#retriesInTtl = undefined;
    } else if (this.#requestsInTtl === undefined || previous.rate?.ttlMs !== rate.ttlMs) {
      this.#requestsInTtl = new SlidingWindowCounter(this.#clock, rate.ttlMs);
      this.#retriesInTtl = new SlidingWindowCounter(this.#clock, rate.ttlMs);
    }
  }

  /** An attempt to this cluster starts; `isRetry` is false for a logical request's first try. */
  onAttemptStart(isRetry: boolean): void {
    this.#activeAttempts++;
    this.#startedInInterval?.add();
    if (!isRetry) this.#requestsInTtl?.add();
  }

  onAttemptEnd(): void {
    if (this.#activeAttempts > 0) this.#activeAttempts--;
  }

  /**
   * Takes a retry slot if every limit allows; returns undefined when granted, else the limit that
   * refused. A granted slot must be given back with releaseRetry.
   */
  tryAcquireRetry(): BudgetLimit | undefined {
    const { maxRetries, rate } = this.#settings;
    if (maxRetries !== undefined && this.#activeRetries >= maxRetries) return 'max-retries';
    if (this.#activeRetries >= this.maxConcurrentRetries()) return 'concurrency';
    if (rate !== undefined && this.#retriesInTtl !== undefined && this.#requestsInTtl !== undefined) {
      const allowed = rate.ratio * this.#requestsInTtl.sum() + (rate.minRetriesPerSecond * rate.ttlMs) / 1000;
      if (this.#retriesInTtl.sum() + 1 > allowed + FLOAT_SLACK) return 'rate';
      this.#retriesInTtl.add();
    }
    this.#activeRetries++;
    return undefined;
  }

  releaseRetry(): void {
    if (this.#activeRetries > 0) this.#activeRetries--;
  }

  /** Concurrent retries the concurrency budget allows right now: max(min, percent × active). */
  maxConcurrentRetries(): number {
    const { percent, minRetryConcurrency } = this.#settings.concurrency;
    const recent = this.#startedInInterval?.sum() ?? 0;
    const base = Math.max(this.#activeAttempts, recent);
    return Math.max(minRetryConcurrency, Math.floor((percent * base) / 100 + FLOAT_SLACK));
  }
}
