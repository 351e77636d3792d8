/**
 * Back-off between retries: Envoy's fully jittered exponential back-off (checked statistically over
 * seeded draws), and server-requested delays (Retry-After in both forms, reset headers, the cap).
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/randomness/random.ts';
import type { AttemptOutcome } from '../src/resilience/retry/attempt-outcome.ts';
import { backoffDelayMs } from '../src/resilience/retry/backoff.ts';
import {
  parseHttpDate,
  parseRetryAfterMs,
  serverRequestedDelay,
} from '../src/resilience/retry/retry-after.ts';
import { RetryController } from '../src/resilience/retry/retry-controller.ts';
import { compileRetryPlan, type RetryPlanOptions } from '../src/resilience/retry/retry-plan.ts';
import { compileRetryPolicy } from '../src/routing/retry-policy.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

const DRAWS = 10_000;

describe('fully jittered exponential back-off', () => {
  const baseMs = 25;
  const maxMs = 250;

  for (const retryNumber of [1, 2, 3, 4, 5, 8]) {
    const ceilingMs = Math.min(maxMs, baseMs * (2 ** retryNumber - 1));
    it(`draws retry ${retryNumber} uniformly from [0, ${ceilingMs}) ms`, () => {
      const random = seededRandom(1000 + retryNumber);
      const delays = Array.from({ length: DRAWS }, () => backoffDelayMs(retryNumber, baseMs, maxMs, random));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...delays)).toBeLessThan(ceilingMs);
      // Full jitter: the draws reach both ends of the range.
      expect(Math.min(...delays)).toBeLessThan(ceilingMs * 0.01 + 1);
      expect(Math.max(...delays)).toBeGreaterThan(ceilingMs * 0.99 - 1);
      // The mean of n uniform draws on [0, c) has standard deviation c / sqrt(12 n); floor() shifts it by −0.5.
      const mean = delays.reduce((sum, delay) => sum + delay, 0) / DRAWS;
      const tolerance = 5 * (ceilingMs / Math.sqrt(12 * DRAWS));
      expect(Math.abs(mean - (ceilingMs / 2 - 0.5))).toBeLessThan(tolerance);
    });
  }

  it('never exceeds ten times the base, however many retries', () => {
    const random = seededRandom(3);
    for (let retryNumber = 1; retryNumber <= 2000; retryNumber++) {
      expect(backoffDelayMs(retryNumber, baseMs, maxMs, random)).toBeLessThan(maxMs);
    }
    expect(compileRetryPlan(compileRetryPolicy({ attempts: 1, backoff: 40 })).backoffMaxMs).toBe(400);
  });

  it('grows with the retry number (the first retry waits less than base on average)', () => {
    const random = seededRandom(11);
    const average = (retryNumber: number) =>
      Array.from({ length: DRAWS }, () => backoffDelayMs(retryNumber, baseMs, maxMs, random)).reduce(
        (a, b) => a + b,
      ) / DRAWS;
    expect(average(1)).toBeLessThan(baseMs / 2 + 1);
    expect(average(2)).toBeGreaterThan(average(1) * 2);
  });
});

describe('Retry-After', () => {
  const wallClockMs = Date.UTC(2025, 0, 15, 12, 0, 0);
  const wallClock = () => wallClockMs;

  it('reads delay-seconds, with optional surrounding whitespace', () => {
    expect(parseRetryAfterMs('3', () => undefined)).toBe(3000);
    expect(parseRetryAfterMs(' 7 ', () => undefined)).toBe(7000);
    expect(parseRetryAfterMs('0', () => undefined)).toBe(0);
  });

  it('rejects values that are neither form', () => {
    for (const value of ['soon', '-1', '1.5', '', '3 s', '0x10']) {
      expect(parseRetryAfterMs(value, wallClock)).toBeUndefined();
    }
  });

  it('reads the three HTTP-date forms as UTC', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected);
    expect(parseHttpDate('Sat, 31 Feb 2025 08:49:37 GMT')).toBeUndefined();
    expect(parseHttpDate('Sun, 06 Nov 1994 25:49:37 GMT')).toBeUndefined();
    expect(parseHttpDate('06 Nov 1994 08:49:37')).toBeUndefined();
  });

  it('measures an HTTP-date against the injected wall clock', () => {
    expect(parseRetryAfterMs('Wed, 15 Jan 2025 12:00:05 GMT', wallClock)).toBe(5000);
    expect(parseRetryAfterMs('Wed, 15 Jan 2025 11:59:00 GMT', wallClock)).toBe(0);
    expect(parseRetryAfterMs('Wed, 15 Jan 2025 12:00:05 GMT', () => undefined)).toBeUndefined();
  });

  it("prefers the response's Date header as the reference, cancelling clock skew", () => {
    const headers = new Map([
      ['retry-after', 'Wed, 15 Jan 2025 13:00:02 GMT'],
      ['date', 'Wed, 15 Jan 2025 13:00:00 GMT'],
    ]);
    const options = { isRetryAfterHonoured: true, resetHeaders: [] };
    expect(serverRequestedDelay(headers, options, wallClock)).toEqual({
      delayMs: 2000,
      source: 'retry-after',
    });
  });

  it('falls back to reset headers, in order, and skips malformed ones', () => {
    const headers = new Map([
      ['retry-after', 'later'],
      ['x-ratelimit-reset', 'soon'],
      ['x-rate-reset-at', String(wallClockMs / 1000 + 4)],
    ]);
    const options = {
      isRetryAfterHonoured: true,
      resetHeaders: [
        { name: 'x-ratelimit-reset', format: 'seconds' as const },
        { name: 'x-rate-reset-at', format: 'unix-timestamp' as const },
      ],
    };
    expect(serverRequestedDelay(headers, options, wallClock)).toEqual({
      delayMs: 4000,
      source: 'reset-header',
    });
    expect(serverRequestedDelay(new Map([['x-ratelimit-reset', '2']]), options, wallClock)).toEqual({
      delayMs: 2000,
      source: 'reset-header',
    });
  });
});

describe('the controller and server-requested delays', () => {
  function decide(headers: Record<string, string>, options: RetryPlanOptions = {}) {
    const plan = compileRetryPlan(compileRetryPolicy({ attempts: 2, retryOn: '503,429' }), options);
    const controller = new RetryController(
      plan,
      { isIdempotent: true, isBodyReplayable: true },
      { clock: new FakeClock(), random: seededRandom(5), wallClock: () => Date.UTC(2025, 0, 1) },
    );
    controller.beginAttempt();
    const outcome: AttemptOutcome = {
      kind: 'response',
      status: 503,
      headers: new Map(Object.entries(headers)),
    };
    return controller.endAttempt(outcome);
  }

  it('waits exactly what Retry-After asks', () => {
    expect(decide({ 'retry-after': '2' })).toMatchObject({
      shouldRetry: true,
      delayMs: 2000,
      delaySource: 'retry-after',
    });
    expect(decide({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' })).toMatchObject({ delayMs: 3000 });
  });

  it('caps a server-requested delay at maxServerDelayMs (30 s by default)', () => {
    expect(decide({ 'retry-after': '3600' })).toMatchObject({ shouldRetry: true, delayMs: 30_000 });
    expect(decide({ 'retry-after': '3600' }, { maxServerDelayMs: 1500 })).toMatchObject({ delayMs: 1500 });
  });

  it('uses jittered back-off when Retry-After is absent, malformed or not honoured', () => {
    for (const decision of [
      decide({}),
      decide({ 'retry-after': 'whenever' }),
      decide({ 'retry-after': '2' }, { isRetryAfterHonoured: false }),
    ]) {
      expect(decision).toMatchObject({ shouldRetry: true, delaySource: 'backoff' });
      expect(decision.shouldRetry && decision.delayMs).toBeLessThan(25);
    }
  });
});
