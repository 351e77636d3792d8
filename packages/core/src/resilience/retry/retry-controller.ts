import type { Random } from '../../randomness/random.ts';
import type { Clock } from '../../time/clock.ts';
import { type AttemptOutcome, hasReachedUpstream } from './attempt-outcome.ts';
import { backoffDelayMs } from './backoff.ts';
import { classifyOutcome } from './classify-outcome.ts';
import { serverRequestedDelay, type WallClock } from './retry-after.ts';
import type { RetryBudget } from './retry-budget.ts';
import { firstRetryCondition, type RetryCondition } from './retry-condition.ts';
import {
  BUDGET_REFUSED,
  REFUSED,
  type RetryDecision,
  type RetryDelaySource,
  type RetryRefused,
} from './retry-decision.ts';
import type { RetryEventSink } from './retry-events.ts';
import type { RetryPlan } from './retry-plan.ts';

/** Shared, long-lived collaborators: created once per mesh, never per request. */
export interface RetryRuntime {
  readonly clock: Clock;
  readonly random: Random;
  /** Epoch milliseconds, for Retry-After dates when the response has no `Date` header. */
  readonly wallClock?: WallClock;
  readonly events?: RetryEventSink;
}

/** What the adapter knows about the logical request. */
export interface RetryRequestFacts {
  /** Safe to repeat after it reached the upstream (see request-safety.ts isIdempotentMethod). */
  readonly isIdempotent: boolean;
  /** The body can be sent again byte for byte (see isReplayableBody). */
  readonly isBodyReplayable: boolean;
  /** The request's total deadline on `clock` (route timeout or propagated deadline), if any. */
  readonly deadlineMs?: number;
}

/**
 * The retry state of one logical request. The adapter drives it:
 *
 * ```
 * const retry = new RetryController(plan, facts, runtime);
 * try {
 *   for (;;) {
 *     retry.beginAttempt(budgetOfChosenCluster);
 *     const outcome = await attempt();          // → AttemptOutcome
 *     const decision = retry.endAttempt(outcome);
 *     if (!decision.shouldRetry) break;          // deliver the outcome (or a RetriesExhaustedError)
 *     await sleep(runtime.clock, decision.delayMs, signal);
 *   }
 * } finally {
 *   retry.finish();
 * }
 * ```
 *
 * Checks run in this order, and the first that fails is the reason reported: the outcome must
 * match the route's retryOn (`not-retriable`), a retry must be left (`attempts-exhausted`), a
 * request that reached the upstream must be idempotent unless the route allows otherwise
 * (`not-idempotent`), the body must be replayable (`body-not-replayable`), the back-off must end
 * before the deadline (`deadline`), and the cluster's budget must grant a slot (`budget-exhausted`).
 * The budget comes last because it is the only check that takes something.
 */
export class RetryController {
  readonly #plan: RetryPlan;
  readonly #facts: RetryRequestFacts;
  readonly #runtime: RetryRuntime;
  #attempts = 0;
  #isAttemptOpen = false;
  #attemptBudget: RetryBudget | undefined;
  /** The budget whose retry slot this request holds (until the retried attempt ends). */
  #heldBudget: RetryBudget | undefined;

  constructor(plan: RetryPlan, facts: RetryRequestFacts, runtime: RetryRuntime) {
    this.#plan = plan;
    this.#facts = facts;
    this.#runtime = runtime;
  }

  /** Attempts started so far. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Call as each attempt is sent, with the budget of the cluster it goes to (if any). */
  beginAttempt(budget?: RetryBudget): void {
    this.#closeAttempt();
    this.#attempts++;
    this.#isAttemptOpen = true;
    this.#attemptBudget = budget;
    budget?.onAttemptStart(this.#attempts > 1);
  }

  /** Call with each attempt's outcome; says whether to retry and after how long. */
  endAttempt(outcome: AttemptOutcome): RetryDecision {
    if (!this.#isAttemptOpen) this.#attempts++;
    const budget = this.#attemptBudget;
    this.#closeAttempt();
    this.#releaseHeld();

    const plan = this.#plan;
    if (plan.attempts === 0) return REFUSED['not-retriable'];
    const matched = classifyOutcome(outcome, plan) & plan.conditions;
    const condition = firstRetryCondition(matched);
    if (condition === undefined) return REFUSED['not-retriable'];

    if (this.#attempts - 1 >= plan.attempts)
      return this.#refuse(REFUSED['attempts-exhausted'], condition, budget);
    if (!this.#facts.isIdempotent && !plan.isNonIdempotentRetryAllowed && hasReachedUpstream(outcome)) {
      return this.#refuse(REFUSED['not-idempotent'], condition, budget);
    }
    if (!this.#facts.isBodyReplayable) return this.#refuse(REFUSED['body-not-replayable'], condition, budget);

    const { delayMs, delaySource } = this.#delay(outcome);
    const { clock } = this.#runtime;
    const deadlineMs = this.#facts.deadlineMs;
    if (deadlineMs !== undefined && clock.now() + delayMs >= deadlineMs) {
      return this.#refuse(REFUSED.deadline, condition, budget);
    }
    if (budget !== undefined) {
      const limit = budget.tryAcquireRetry();
      if (limit !== undefined) return this.#refuse(BUDGET_REFUSED[limit], condition, budget);
      this.#heldBudget = budget;
    }

    const attempt = this.#attempts + 1;
    const events = this.#runtime.events;
    if (events?.hasListeners) {
      events.emit({
        type: 'retry-scheduled',
        route: plan.routeName,
        cluster: budget?.clusterName ?? '',
        attempt,
        condition,
        delayMs,
        delaySource,
        atMs: clock.now(),
      });
    }
    return { shouldRetry: true, attempt, delayMs, delaySource, condition };
  }

  /** Ends the logical request: gives back anything still held. Safe to call more than once. */
  finish(): void {
    this.#closeAttempt();
    this.#releaseHeld();
  }

  #closeAttempt(): void {
    if (!this.#isAttemptOpen) return;
    this.#isAttemptOpen = false;
    this.#attemptBudget?.onAttemptEnd();
    this.#attemptBudget = undefined;
  }

  #releaseHeld(): void {
    this.#heldBudget?.releaseRetry();
    this.#heldBudget = undefined;
  }

  /** A server-requested delay (capped) when the response carries one, else jittered back-off. */
  #delay(outcome: AttemptOutcome): { delayMs: number; delaySource: RetryDelaySource } {
    const plan = this.#plan;
    if (outcome.kind === 'response') {
      const requested = serverRequestedDelay(outcome.headers, plan, this.#runtime.wallClock);
      if (requested !== undefined) {
        return { delayMs: Math.min(requested.delayMs, plan.maxServerDelayMs), delaySource: requested.source };
      }
    }
    const retryNumber = this.#attempts;
    return {
      delayMs: backoffDelayMs(retryNumber, plan.backoffBaseMs, plan.backoffMaxMs, this.#runtime.random),
      delaySource: 'backoff',
    };
  }

  #refuse(refusal: RetryRefused, condition: RetryCondition, budget: RetryBudget | undefined): RetryRefused {
    const events = this.#runtime.events;
    if (events?.hasListeners && refusal.reason !== 'not-retriable') {
      events.emit({
        type: 'retry-refused',
        route: this.#plan.routeName,
        cluster: budget?.clusterName ?? '',
        attempts: this.#attempts,
        condition,
        reason: refusal.reason,
        ...(refusal.budgetLimit === undefined ? {} : { budgetLimit: refusal.budgetLimit }),
        atMs: this.#runtime.clock.now(),
      });
    }
    return refusal;
  }
}
