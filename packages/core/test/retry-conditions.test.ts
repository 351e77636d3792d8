/**
 * Which retryOn conditions each attempt outcome satisfies (Envoy's x-envoy-retry-on and
 * x-envoy-retry-grpc-on semantics), and that a route retries exactly the outcomes its conditions
 * cover.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/randomness/random.ts';
import type { AttemptOutcome } from '../src/resilience/retry/attempt-outcome.ts';
import { classifyOutcome } from '../src/resilience/retry/classify-outcome.ts';
import { retryConditionMask, retryConditionNames } from '../src/resilience/retry/retry-condition.ts';
import { RetryController } from '../src/resilience/retry/retry-controller.ts';
import { compileRetryPlan, type RetryPlanOptions } from '../src/resilience/retry/retry-plan.ts';
import { compileRetryPolicy } from '../src/routing/retry-policy.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function response(status: number, headers: Record<string, string> = {}, grpcStatus?: number): AttemptOutcome {
  return {
    kind: 'response',
    status,
    headers: new Map(Object.entries(headers)),
    ...(grpcStatus === undefined ? {} : { grpcStatus }),
  };
}

const CONNECT_FAILURE: AttemptOutcome = { kind: 'connect-failure' };
const REFUSED_STREAM: AttemptOutcome = { kind: 'refused-stream' };
const RESET_BEFORE_REQUEST: AttemptOutcome = { kind: 'reset', phase: 'before-request' };
const RESET_BEFORE_RESPONSE: AttemptOutcome = { kind: 'reset', phase: 'before-response' };
const RESET_AFTER_RESPONSE_START: AttemptOutcome = { kind: 'reset', phase: 'after-response-start' };
const PER_TRY_TIMEOUT: AttemptOutcome = { kind: 'per-try-timeout' };

function plan(retryOn: string, options: RetryPlanOptions = {}) {
  return compileRetryPlan(compileRetryPolicy({ attempts: 3, retryOn }), options);
}

/** Classified on a route whose retriable status codes are {503}. */
function conditionsOf(outcome: AttemptOutcome, retryOn = '503', options: RetryPlanOptions = {}) {
  return retryConditionNames(classifyOutcome(outcome, plan(retryOn, options)));
}

/** Whether a GET with a replayable body, on a route with `retryOn`, is retried after `outcome`. */
function isRetried(retryOn: string, outcome: AttemptOutcome, options: RetryPlanOptions = {}): boolean {
  const controller = new RetryController(
    plan(retryOn, options),
    { isIdempotent: true, isBodyReplayable: true },
    { clock: new FakeClock(), random: seededRandom(1) },
  );
  controller.beginAttempt();
  return controller.endAttempt(outcome).shouldRetry;
}

describe('classifying attempt outcomes', () => {
  it('counts a connect failure as connect-failure, reset-before-request, reset, 5xx and gateway-error', () => {
    expect(conditionsOf(CONNECT_FAILURE)).toEqual([
      'connect-failure',
      'reset-before-request',
      'reset',
      'gateway-error',
      '5xx',
    ]);
  });

  it('counts a refused stream as refused-stream, reset, 5xx and gateway-error, not reset-before-request', () => {
    expect(conditionsOf(REFUSED_STREAM)).toEqual(['refused-stream', 'reset', 'gateway-error', '5xx']);
  });

  it('tells a reset before the request was written from one after', () => {
    expect(conditionsOf(RESET_BEFORE_REQUEST)).toEqual([
      'reset-before-request',
      'reset',
      'gateway-error',
      '5xx',
    ]);
    expect(conditionsOf(RESET_BEFORE_RESPONSE)).toEqual(['reset', 'gateway-error', '5xx']);
  });

  it('satisfies nothing with a reset after the response started', () => {
    expect(conditionsOf(RESET_AFTER_RESPONSE_START)).toEqual([]);
  });

  it('counts a per-try timeout as reset, 5xx and gateway-error (Envoy: "read timeout")', () => {
    expect(conditionsOf(PER_TRY_TIMEOUT)).toEqual(['reset', 'gateway-error', '5xx']);
  });

  it('never retries overflow, circuit-open or an injected fault, whatever the policy', () => {
    const everything =
      'reset,5xx,gateway-error,connect-failure,refused-stream,reset-before-request,retriable-4xx';
    for (const kind of ['overflow', 'circuit-open', 'fault-injected'] as const) {
      expect(conditionsOf({ kind }, everything)).toEqual([]);
      expect(isRetried(everything, { kind })).toBe(false);
    }
  });

  it('maps response statuses to 5xx, gateway-error, retriable-4xx and retriable-status-codes', () => {
    expect(conditionsOf(response(500))).toEqual(['5xx']);
    expect(conditionsOf(response(503))).toEqual(['retriable-status-codes', 'gateway-error', '5xx']);
    expect(conditionsOf(response(502))).toEqual(['gateway-error', '5xx']);
    expect(conditionsOf(response(504))).toEqual(['gateway-error', '5xx']);
    expect(conditionsOf(response(599))).toEqual(['5xx']);
    expect(conditionsOf(response(409))).toEqual(['retriable-4xx']);
    expect(conditionsOf(response(429))).toEqual([]);
    expect(conditionsOf(response(499))).toEqual([]);
    expect(conditionsOf(response(200))).toEqual([]);
  });

  it('maps trailers-only gRPC statuses to the gRPC conditions', () => {
    expect(conditionsOf(response(200, {}, 1))).toEqual(['cancelled']);
    expect(conditionsOf(response(200, {}, 4))).toEqual(['deadline-exceeded']);
    expect(conditionsOf(response(200, {}, 8))).toEqual(['resource-exhausted']);
    expect(conditionsOf(response(200, {}, 13))).toEqual(['internal']);
    expect(conditionsOf(response(200, {}, 14))).toEqual(['unavailable']);
    expect(conditionsOf(response(200, {}, 2))).toEqual([]);
    expect(conditionsOf(response(200, {}, 0))).toEqual([]);
  });

  it('lets a response rate-limited by an upstream Envoy satisfy envoy-ratelimited only', () => {
    expect(conditionsOf(response(503, { 'x-envoy-ratelimited': 'true' }))).toEqual(['envoy-ratelimited']);
  });

  it('reports retryOn entries it does not know instead of dropping them', () => {
    expect(retryConditionMask(['5xx', 'sometimes']).unknown).toEqual(['sometimes']);
  });
});

describe('a route retries exactly what its retryOn covers', () => {
  it('5xx: any 5xx and any failure to get a response', () => {
    expect(isRetried('5xx', response(500))).toBe(true);
    expect(isRetried('5xx', response(503))).toBe(true);
    expect(isRetried('5xx', CONNECT_FAILURE)).toBe(true);
    expect(isRetried('5xx', PER_TRY_TIMEOUT)).toBe(true);
    expect(isRetried('5xx', response(404))).toBe(false);
    expect(isRetried('5xx', RESET_AFTER_RESPONSE_START)).toBe(false);
  });

  it('gateway-error: 502, 503, 504 and failures to get a response, not 500', () => {
    expect(isRetried('gateway-error', response(502))).toBe(true);
    expect(isRetried('gateway-error', response(504))).toBe(true);
    expect(isRetried('gateway-error', RESET_BEFORE_RESPONSE)).toBe(true);
    expect(isRetried('gateway-error', response(500))).toBe(false);
  });

  it('reset: resets, connect failures and per-try timeouts, not a 503', () => {
    expect(isRetried('reset', RESET_BEFORE_RESPONSE)).toBe(true);
    expect(isRetried('reset', CONNECT_FAILURE)).toBe(true);
    expect(isRetried('reset', PER_TRY_TIMEOUT)).toBe(true);
    expect(isRetried('reset', response(503))).toBe(false);
  });

  it('reset-before-request: only failures before any byte of the request was written', () => {
    expect(isRetried('reset-before-request', RESET_BEFORE_REQUEST)).toBe(true);
    expect(isRetried('reset-before-request', CONNECT_FAILURE)).toBe(true);
    expect(isRetried('reset-before-request', RESET_BEFORE_RESPONSE)).toBe(false);
    expect(isRetried('reset-before-request', REFUSED_STREAM)).toBe(false);
  });

  it('connect-failure: only connect failures', () => {
    expect(isRetried('connect-failure', CONNECT_FAILURE)).toBe(true);
    expect(isRetried('connect-failure', RESET_BEFORE_RESPONSE)).toBe(false);
    expect(isRetried('connect-failure', REFUSED_STREAM)).toBe(false);
    expect(isRetried('connect-failure', response(503))).toBe(false);
  });

  it('refused-stream: only refused streams', () => {
    expect(isRetried('refused-stream', REFUSED_STREAM)).toBe(true);
    expect(isRetried('refused-stream', RESET_BEFORE_RESPONSE)).toBe(false);
    expect(isRetried('refused-stream', CONNECT_FAILURE)).toBe(false);
  });

  it('retriable-4xx: 409 only', () => {
    expect(isRetried('retriable-4xx', response(409))).toBe(true);
    expect(isRetried('retriable-4xx', response(429))).toBe(false);
    expect(isRetried('retriable-4xx', response(400))).toBe(false);
  });

  it('retriable-status-codes: the codes listed in retryOn, none when a route lists none (as Istio)', () => {
    expect(isRetried('retriable-status-codes', response(503))).toBe(false);
    expect(isRetried('503', response(503))).toBe(true);
    expect(isRetried('503', response(502))).toBe(false);
    expect(isRetried('429,502', response(429))).toBe(true);
    expect(isRetried('429,502', response(502))).toBe(true);
    expect(isRetried('429,502', response(503))).toBe(false);
  });

  it('retriable-headers: a response carrying one of the configured headers', () => {
    const options = { retriableHeaderNames: ['X-Upstream-Retry'] };
    expect(isRetried('retriable-headers', response(200, { 'x-upstream-retry': '1' }), options)).toBe(true);
    expect(isRetried('retriable-headers', response(500), options)).toBe(false);
    expect(isRetried('retriable-headers', response(200, { 'x-upstream-retry': '1' }))).toBe(false);
  });

  it('envoy-ratelimited: only with that policy; 5xx does not retry a rate-limited 503', () => {
    const limited = response(503, { 'x-envoy-ratelimited': 'true' });
    expect(isRetried('envoy-ratelimited', limited)).toBe(true);
    expect(isRetried('5xx,gateway-error,retriable-status-codes', limited)).toBe(false);
  });

  it('the gRPC conditions: each retries its own status only', () => {
    const codes = {
      cancelled: 1,
      'deadline-exceeded': 4,
      'resource-exhausted': 8,
      internal: 13,
      unavailable: 14,
    };
    for (const [condition, code] of Object.entries(codes)) {
      expect(isRetried(condition, response(200, {}, code))).toBe(true);
      expect(isRetried(condition, response(200, {}, code === 14 ? 13 : 14))).toBe(false);
    }
  });

  it('http3-post-connect-failure matches nothing (no HTTP/3 transport)', () => {
    expect(isRetried('http3-post-connect-failure', CONNECT_FAILURE)).toBe(false);
    expect(isRetried('http3-post-connect-failure', RESET_BEFORE_RESPONSE)).toBe(false);
  });

  it("Istio's default policy retries connect failures, refused streams, 503 and gRPC UNAVAILABLE/CANCELLED", () => {
    const defaults = compileRetryPlan(compileRetryPolicy(undefined));
    const retried = (outcome: AttemptOutcome) => {
      const controller = new RetryController(
        defaults,
        { isIdempotent: true, isBodyReplayable: true },
        { clock: new FakeClock(), random: seededRandom(1) },
      );
      controller.beginAttempt();
      return controller.endAttempt(outcome).shouldRetry;
    };
    expect(retried(CONNECT_FAILURE)).toBe(true);
    expect(retried(REFUSED_STREAM)).toBe(true);
    expect(retried(response(503))).toBe(true);
    expect(retried(response(200, {}, 14))).toBe(true);
    expect(retried(response(200, {}, 1))).toBe(true);
    expect(retried(response(500))).toBe(false);
    expect(retried(RESET_BEFORE_RESPONSE)).toBe(false);
  });
});
