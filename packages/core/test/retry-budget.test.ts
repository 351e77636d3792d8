/**
 * Per-cluster retry budgets: Weft's default (Envoy concurrency budget + Linkerd rate budget), a
 * DestinationRule retryBudget, the maxRetries cap, exhaustion and recovery.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterPolicy } from '../src/config/compile/cluster.ts';
import { seededRandom } from '../src/randomness/random.ts';
import { RetryBudget } from '../src/resilience/retry/retry-budget.ts';
import {
  DEFAULT_RETRY_BUDGET,
  type RetryBudgetSettings,
  retryBudgetSettings,
} from '../src/resilience/retry/retry-budget-settings.ts';
import { RetryController } from '../src/resilience/retry/retry-controller.ts';
import { compileRetryPlan } from '../src/resilience/retry/retry-plan.ts';
import { compileRetryPolicy } from '../src/routing/retry-policy.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function startAttempts(budget: RetryBudget, count: number): void {
  for (let index = 0; index < count; index++) budget.onAttemptStart(false);
}

/** Grants and immediately releases retries until refused; returns how many were granted. */
function drainRate(budget: RetryBudget, limit = 10_000): number {
  for (let granted = 0; granted < limit; granted++) {
    if (budget.tryAcquireRetry() !== undefined) return granted;
    budget.releaseRetry();
  }
  return limit;
}

describe('choosing the budget for a cluster', () => {
  it('uses the default budget when the DestinationRule sets none', () => {
    expect(retryBudgetSettings(undefined)).toBe(DEFAULT_RETRY_BUDGET);
    expect(retryBudgetSettings({})).toEqual({
      source: 'default',
      concurrency: { percent: 20, minRetryConcurrency: 3, budgetIntervalMs: 0 },
      rate: { ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 },
    });
  });

  it("replaces the whole default with a DestinationRule retryBudget, filling Istio's defaults", () => {
    expect(retryBudgetSettings({ retryBudget: { percent: 50 } } as ClusterPolicy)).toEqual({
      source: 'destination-rule',
      concurrency: { percent: 50, minRetryConcurrency: 3, budgetIntervalMs: 0 },
    });
    expect(
      retryBudgetSettings({ retryBudget: { minRetryConcurrency: 0, budgetInterval: 2000 } } as ClusterPolicy),
    ).toMatchObject({ concurrency: { percent: 20, minRetryConcurrency: 3, budgetIntervalMs: 2000 } });
    expect(
      retryBudgetSettings({ retryBudget: { percent: 0, minRetryConcurrency: 1 } } as ClusterPolicy),
    ).toMatchObject({ concurrency: { percent: 0, minRetryConcurrency: 1 } });
  });

  it('adds connectionPool.http.maxRetries as a cap on either budget; 0 means unset, as in Istio', () => {
    const capped = (maxRetries: number, extra: Partial<ClusterPolicy> = {}) =>
      retryBudgetSettings({ connectionPool: { http: { maxRetries } }, ...extra } as ClusterPolicy);
    expect(capped(5)).toMatchObject({ source: 'default', maxRetries: 5 });
    expect(capped(5, { retryBudget: { percent: 10 } } as ClusterPolicy)).toMatchObject({
      source: 'destination-rule',
      maxRetries: 5,
    });
    expect(capped(0)).toBe(DEFAULT_RETRY_BUDGET);
  });
});

describe('the concurrency budget', () => {
  it('allows at least minRetryConcurrency concurrent retries, and refuses the next', () => {
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, new FakeClock());
    startAttempts(budget, 10); // 20% of 10 is 2, below the floor of 3
    expect([budget.tryAcquireRetry(), budget.tryAcquireRetry(), budget.tryAcquireRetry()]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(budget.tryAcquireRetry()).toBe('concurrency');
  });

  it('recovers as soon as a retry ends', () => {
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, new FakeClock());
    for (let index = 0; index < 3; index++) budget.tryAcquireRetry();
    expect(budget.tryAcquireRetry()).toBe('concurrency');
    budget.releaseRetry();
    expect(budget.tryAcquireRetry()).toBeUndefined();
  });

  it('scales with active requests: 20% of 100 active allows 20', () => {
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, new FakeClock());
    startAttempts(budget, 100);
    expect(budget.maxConcurrentRetries()).toBe(20);
    let granted = 0;
    while (budget.tryAcquireRetry() === undefined) granted++;
    expect(granted).toBe(20);
    for (let index = 0; index < 60; index++) budget.onAttemptEnd();
    expect(budget.maxConcurrentRetries()).toBe(8);
  });

  it('with a budgetInterval, counts requests started within it even after they ended', () => {
    const clock = new FakeClock();
    const settings: RetryBudgetSettings = {
      source: 'destination-rule',
      concurrency: { percent: 20, minRetryConcurrency: 1, budgetIntervalMs: 1000 },
    };
    const budget = new RetryBudget('c', settings, clock);
    startAttempts(budget, 50);
    for (let index = 0; index < 50; index++) budget.onAttemptEnd();
    expect(budget.activeAttempts).toBe(0);
    expect(budget.maxConcurrentRetries()).toBe(10);
    clock.advance(1000);
    expect(budget.maxConcurrentRetries()).toBe(1);
  });
});

describe('the rate budget', () => {
  it('allows the 10/s floor (100 per 10 s) with no traffic, then refuses, then recovers after the TTL', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, clock);
    expect(drainRate(budget)).toBe(100);
    expect(budget.tryAcquireRetry()).toBe('rate');
    clock.advance(5_000);
    expect(budget.tryAcquireRetry()).toBe('rate');
    clock.advance(5_000);
    expect(drainRate(budget)).toBe(100);
  });

  it('adds 20% of the requests seen in the last 10 s', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, clock);
    startAttempts(budget, 1000);
    for (let index = 0; index < 1000; index++) budget.onAttemptEnd();
    expect(drainRate(budget)).toBe(300);
  });

  it('does not count retries as new requests', () => {
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, new FakeClock());
    for (let index = 0; index < 1000; index++) {
      budget.onAttemptStart(true);
      budget.onAttemptEnd();
    }
    expect(drainRate(budget)).toBe(100);
  });

  it('is absent from a DestinationRule budget', () => {
    const budget = new RetryBudget(
      'c',
      retryBudgetSettings({ retryBudget: {} } as ClusterPolicy),
      new FakeClock(),
    );
    expect(drainRate(budget, 1000)).toBe(1000);
  });
});

describe('maxRetries', () => {
  it('caps concurrent retries below what the budget would allow', () => {
    const settings = retryBudgetSettings({ connectionPool: { http: { maxRetries: 2 } } } as ClusterPolicy);
    const budget = new RetryBudget('c', settings, new FakeClock());
    startAttempts(budget, 100);
    expect([budget.tryAcquireRetry(), budget.tryAcquireRetry()]).toEqual([undefined, undefined]);
    expect(budget.tryAcquireRetry()).toBe('max-retries');
    budget.releaseRetry();
    expect(budget.tryAcquireRetry()).toBeUndefined();
  });

  it('keeps counts of requests in flight across a reconfiguration', () => {
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, new FakeClock());
    budget.tryAcquireRetry();
    budget.tryAcquireRetry();
    budget.reconfigure(retryBudgetSettings({ connectionPool: { http: { maxRetries: 2 } } } as ClusterPolicy));
    expect(budget.activeRetries).toBe(2);
    expect(budget.tryAcquireRetry()).toBe('max-retries');
  });
});

describe('the controller and the budget', () => {
  it('refuses with budget-exhausted and names the limit, and retries again once a slot frees', () => {
    const clock = new FakeClock();
    const settings = retryBudgetSettings({ connectionPool: { http: { maxRetries: 1 } } } as ClusterPolicy);
    const budget = new RetryBudget('outbound|9080||ratings', settings, clock);
    const plan = compileRetryPlan(compileRetryPolicy({ attempts: 3, retryOn: 'connect-failure' }));
    const runtime = { clock, random: seededRandom(9) };
    const facts = { isIdempotent: true, isBodyReplayable: true };
    const first = new RetryController(plan, facts, runtime);
    const second = new RetryController(plan, facts, runtime);

    first.beginAttempt(budget);
    expect(first.endAttempt({ kind: 'connect-failure' }).shouldRetry).toBe(true);
    second.beginAttempt(budget);
    expect(second.endAttempt({ kind: 'connect-failure' })).toEqual({
      shouldRetry: false,
      reason: 'budget-exhausted',
      budgetLimit: 'max-retries',
    });
    first.finish();

    const third = new RetryController(plan, facts, runtime);
    third.beginAttempt(budget);
    expect(third.endAttempt({ kind: 'connect-failure' }).shouldRetry).toBe(true);
  });

  it('keeps retries within ~20% of requests under sustained failure (plus the floor)', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, clock);
    const plan = compileRetryPlan(compileRetryPolicy({ attempts: 3, retryOn: 'connect-failure' }));
    const runtime = { clock, random: seededRandom(13) };
    let requests = 0;
    let retries = 0;
    // 1000 requests/s for 60 s; every attempt fails instantly (the case concurrency cannot bound).
    for (let millisecond = 0; millisecond < 60_000; millisecond++) {
      requests++;
      const controller = new RetryController(plan, { isIdempotent: true, isBodyReplayable: true }, runtime);
      for (;;) {
        controller.beginAttempt(budget);
        if (!controller.endAttempt({ kind: 'connect-failure' }).shouldRetry) break;
        retries++;
      }
      controller.finish();
      clock.advance(1);
    }
    expect(retries / requests).toBeLessThan(0.2 + 10 / 1000 + 0.01);
    expect(retries / requests).toBeGreaterThan(0.15);
  });
});
