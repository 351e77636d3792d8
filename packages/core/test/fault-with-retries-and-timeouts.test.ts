/**
 * Weft's semantics for faults combined with retries and timeouts on the same route (bad-inputs
 * A16; docs/retries-and-faults.md): an injected abort is not retried; an injected delay runs
 * inside the route's total timeout, so it counts against it and shrinks the room left for retries.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, WeftError } from '../src/errors/weft-error.ts';
import { type Random, seededRandom } from '../src/randomness/random.ts';
import { decideFault } from '../src/resilience/fault/fault-decision.ts';
import { RetryBudget } from '../src/resilience/retry/retry-budget.ts';
import { DEFAULT_RETRY_BUDGET } from '../src/resilience/retry/retry-budget-settings.ts';
import { RetryController } from '../src/resilience/retry/retry-controller.ts';
import { compileRetryPlan } from '../src/resilience/retry/retry-plan.ts';
import { sleep } from '../src/resilience/retry/sleep.ts';
import { compileRetryPolicy } from '../src/routing/retry-policy.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

const GET = { isIdempotent: true, isBodyReplayable: true };
/** retryOn that would cover a 503 abort if it were an upstream's answer. */
const PLAN = compileRetryPlan(compileRetryPolicy({ attempts: 3, retryOn: '5xx,gateway-error,503,reset' }));

function fixedRandom(value: number): Random {
  return { next: () => value };
}

/** A route timeout as the timeouts module would arm it: an AbortSignal on the fake clock. */
function routeTimeout(clock: FakeClock, timeoutMs: number) {
  const controller = new AbortController();
  const deadlineMs = clock.now() + timeoutMs;
  clock.setTimeout(() => controller.abort(new WeftError(ErrorCodes.timeout, 'route timeout')), timeoutMs);
  return { signal: controller.signal, deadlineMs };
}

describe('an injected abort', () => {
  it('is not retried even when the route retries the very status it injects', () => {
    const fault = {
      abort: { httpStatus: 503, percentage: { value: 100 } },
    } as Parameters<typeof decideFault>[0];
    expect(decideFault(fault, seededRandom(1)).abort).toEqual({ httpStatus: 503 });

    const clock = new FakeClock();
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, clock);
    const retry = new RetryController(PLAN, GET, { clock, random: seededRandom(1) });
    retry.beginAttempt(budget);
    expect(retry.endAttempt({ kind: 'fault-injected' })).toEqual({
      shouldRetry: false,
      reason: 'not-retriable',
    });
    expect(retry.attempts).toBe(1);
    expect(budget.activeRetries).toBe(0);
  });

  it('differs from the same 503 coming from the upstream, which is retried', () => {
    const retry = new RetryController(PLAN, GET, { clock: new FakeClock(), random: seededRandom(1) });
    retry.beginAttempt();
    expect(retry.endAttempt({ kind: 'response', status: 503, headers: new Map() }).shouldRetry).toBe(true);
  });
});

describe('an injected delay', () => {
  it('counts against the route timeout: a delay longer than the timeout ends at the timeout', async () => {
    const clock = new FakeClock();
    const { signal } = routeTimeout(clock, 100);
    const delayed = sleep(clock, 5_000, signal);
    const settled = delayed.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    clock.advance(100);
    const outcome = await settled;
    expect(outcome).toBeInstanceOf(WeftError);
    expect((outcome as WeftError).code).toBe(ErrorCodes.timeout);
    expect(clock.now()).toBe(100);
    expect(clock.pendingTimers).toBe(0);
  });

  it('completes when it fits in the timeout', async () => {
    const clock = new FakeClock();
    const { signal } = routeTimeout(clock, 100);
    const delayed = sleep(clock, 60, signal);
    clock.advance(60);
    await expect(delayed).resolves.toBeUndefined();
  });

  it('leaves less room for retries: a failure after a long delay is not retried past the deadline', async () => {
    // random 0.5 → the first back-off is 12 ms.
    const withDelay = async (delayMs: number) => {
      const clock = new FakeClock();
      const { signal, deadlineMs } = routeTimeout(clock, 100);
      const retry = new RetryController(PLAN, { ...GET, deadlineMs }, { clock, random: fixedRandom(0.5) });
      const waited = sleep(clock, delayMs, signal);
      clock.advance(delayMs);
      await waited;
      retry.beginAttempt();
      clock.advance(5); // the upstream answers 503 after 5 ms
      return retry.endAttempt({ kind: 'response', status: 503, headers: new Map() });
    };
    expect((await withDelay(0)).shouldRetry).toBe(true);
    expect(await withDelay(85)).toEqual({ shouldRetry: false, reason: 'deadline' });
  });
});

describe('sleep', () => {
  it('rejects at once when the signal is already aborted, setting no timer', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(sleep(clock, 10, controller.signal)).rejects.toThrow('gone');
    expect(clock.pendingTimers).toBe(0);
  });
});
