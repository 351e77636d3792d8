/**
 * The per-request retry controller: attempts, idempotency ("reached the upstream"), body
 * replayability, deadlines, the order of its checks, and the events it emits.
 */
import { describe, expect, it } from 'vitest';
import { EventChannel } from '../src/events/event-channel.ts';
import type { Random } from '../src/randomness/random.ts';
import { seededRandom } from '../src/randomness/random.ts';
import { type AttemptOutcome, hasReachedUpstream } from '../src/resilience/retry/attempt-outcome.ts';
import {
  DEFAULT_MAX_REPLAY_BODY_BYTES,
  isIdempotentMethod,
  isReplayableBody,
} from '../src/resilience/retry/request-safety.ts';
import { RetryBudget } from '../src/resilience/retry/retry-budget.ts';
import { DEFAULT_RETRY_BUDGET } from '../src/resilience/retry/retry-budget-settings.ts';
import { RetryController, type RetryRequestFacts } from '../src/resilience/retry/retry-controller.ts';
import type { RetryEvent } from '../src/resilience/retry/retry-events.ts';
import { compileRetryPlan, type RetryPlanOptions } from '../src/resilience/retry/retry-plan.ts';
import { compileRetryPolicy, type RetrySpec } from '../src/routing/retry-policy.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

const RESPONSE_503: AttemptOutcome = { kind: 'response', status: 503, headers: new Map() };
const RESPONSE_200: AttemptOutcome = { kind: 'response', status: 200, headers: new Map() };
const GET: RetryRequestFacts = { isIdempotent: true, isBodyReplayable: true };
const POST: RetryRequestFacts = { isIdempotent: false, isBodyReplayable: true };

/** A Random that always returns `value`, to pin back-off delays. */
function fixedRandom(value: number): Random {
  return { next: () => value };
}

function setup(
  spec: RetrySpec = { attempts: 2, retryOn: '5xx,connect-failure,refused-stream,reset' },
  facts: RetryRequestFacts = GET,
  options: RetryPlanOptions & { random?: Random; clock?: FakeClock } = {},
) {
  const clock = options.clock ?? new FakeClock();
  const events = new EventChannel<RetryEvent>();
  const seen: RetryEvent[] = [];
  events.on((event) => seen.push(event));
  const plan = compileRetryPlan(compileRetryPolicy(spec), { routeName: 'reviews/default', ...options });
  const controller = new RetryController(plan, facts, {
    clock,
    random: options.random ?? seededRandom(7),
    events,
  });
  return { clock, controller, seen };
}

/** Runs one attempt ending in `outcome` and returns the decision. */
function attempt(controller: RetryController, outcome: AttemptOutcome, budget?: RetryBudget) {
  controller.beginAttempt(budget);
  return controller.endAttempt(outcome);
}

describe('attempts', () => {
  it('retries `attempts` times and then reports attempts-exhausted', () => {
    const { controller } = setup({ attempts: 2, retryOn: '5xx' });
    expect(attempt(controller, RESPONSE_503)).toMatchObject({ shouldRetry: true, attempt: 2 });
    expect(attempt(controller, RESPONSE_503)).toMatchObject({ shouldRetry: true, attempt: 3 });
    expect(attempt(controller, RESPONSE_503)).toEqual({ shouldRetry: false, reason: 'attempts-exhausted' });
    expect(controller.attempts).toBe(3);
  });

  it('does not retry at all when the route sets attempts: 0', () => {
    const { controller, seen } = setup({ attempts: 0 });
    expect(attempt(controller, { kind: 'connect-failure' })).toEqual({
      shouldRetry: false,
      reason: 'not-retriable',
    });
    expect(seen).toEqual([]);
  });

  it('stops at the first success', () => {
    const { controller, seen } = setup({ attempts: 2, retryOn: '5xx' });
    expect(attempt(controller, RESPONSE_503).shouldRetry).toBe(true);
    expect(attempt(controller, RESPONSE_200)).toEqual({ shouldRetry: false, reason: 'not-retriable' });
    expect(seen.map((event) => event.type)).toEqual(['retry-scheduled']);
  });
});

describe('idempotency: what "reached the upstream" means', () => {
  it('treats RFC 9110 idempotent methods as idempotent, and POST, PATCH, CONNECT and lower case as not', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) {
      expect(isIdempotentMethod(method)).toBe(true);
    }
    for (const method of ['POST', 'PATCH', 'CONNECT', 'get', 'PROPFIND']) {
      expect(isIdempotentMethod(method)).toBe(false);
    }
  });

  it('names connect failures, refused streams, resets before the request and local outcomes as not reached', () => {
    const notReached: AttemptOutcome[] = [
      { kind: 'connect-failure' },
      { kind: 'refused-stream' },
      { kind: 'reset', phase: 'before-request' },
      { kind: 'overflow' },
      { kind: 'circuit-open' },
      { kind: 'fault-injected' },
    ];
    const reached: AttemptOutcome[] = [
      RESPONSE_503,
      { kind: 'reset', phase: 'before-response' },
      { kind: 'reset', phase: 'after-response-start' },
      { kind: 'per-try-timeout' },
    ];
    expect(notReached.map(hasReachedUpstream)).toEqual(notReached.map(() => false));
    expect(reached.map(hasReachedUpstream)).toEqual(reached.map(() => true));
  });

  it('always retries a POST that never reached the upstream', () => {
    const spec = { attempts: 3, retryOn: 'connect-failure,refused-stream,reset-before-request' };
    const { controller } = setup(spec, POST);
    expect(attempt(controller, { kind: 'connect-failure' }).shouldRetry).toBe(true);
    expect(attempt(controller, { kind: 'refused-stream' }).shouldRetry).toBe(true);
    expect(attempt(controller, { kind: 'reset', phase: 'before-request' }).shouldRetry).toBe(true);
  });

  it('does not retry a POST after it reached the upstream (503, reset, per-try timeout)', () => {
    for (const outcome of [
      RESPONSE_503,
      { kind: 'reset', phase: 'before-response' } as const,
      { kind: 'per-try-timeout' } as const,
    ]) {
      const { controller, seen } = setup({ attempts: 2, retryOn: '5xx,reset' }, POST);
      expect(attempt(controller, outcome)).toEqual({ shouldRetry: false, reason: 'not-idempotent' });
      expect(seen).toMatchObject([{ type: 'retry-refused', reason: 'not-idempotent', attempts: 1 }]);
    }
  });

  it('retries the same POST when the route allows non-idempotent retries explicitly', () => {
    const { controller } = setup({ attempts: 2, retryOn: '5xx' }, POST, {
      isNonIdempotentRetryAllowed: true,
    });
    expect(attempt(controller, RESPONSE_503).shouldRetry).toBe(true);
  });

  it('retries the same 503 for a GET', () => {
    const { controller } = setup({ attempts: 2, retryOn: '5xx' }, GET);
    expect(attempt(controller, RESPONSE_503).shouldRetry).toBe(true);
  });
});

describe('body replayability', () => {
  it('replays no body and buffered bodies up to 64 KiB, never streams', () => {
    expect(isReplayableBody({ kind: 'none' })).toBe(true);
    expect(isReplayableBody({ kind: 'buffered', sizeBytes: DEFAULT_MAX_REPLAY_BODY_BYTES })).toBe(true);
    expect(isReplayableBody({ kind: 'buffered', sizeBytes: DEFAULT_MAX_REPLAY_BODY_BYTES + 1 })).toBe(false);
    expect(isReplayableBody({ kind: 'buffered', sizeBytes: 2048 }, 1024)).toBe(false);
    expect(isReplayableBody({ kind: 'stream' })).toBe(false);
  });

  it('refuses to retry a request whose body cannot be replayed, even after a connect failure', () => {
    const { controller, seen } = setup(undefined, { isIdempotent: true, isBodyReplayable: false });
    expect(attempt(controller, { kind: 'connect-failure' })).toEqual({
      shouldRetry: false,
      reason: 'body-not-replayable',
    });
    expect(seen).toMatchObject([{ type: 'retry-refused', reason: 'body-not-replayable' }]);
  });

  it('reports not-idempotent before body-not-replayable when both apply', () => {
    const { controller } = setup(
      { attempts: 2, retryOn: '5xx' },
      { isIdempotent: false, isBodyReplayable: false },
    );
    expect(attempt(controller, RESPONSE_503)).toMatchObject({ reason: 'not-idempotent' });
  });
});

describe('deadlines', () => {
  it('never schedules a retry whose back-off ends at or past the deadline', () => {
    // random 0.5 → the first back-off is floor(0.5 × 25) = 12 ms.
    const clock = new FakeClock();
    const { controller, seen } = setup(
      { attempts: 2, retryOn: '5xx' },
      { ...GET, deadlineMs: 100 },
      { clock, random: fixedRandom(0.5) },
    );
    clock.advance(88);
    expect(attempt(controller, RESPONSE_503)).toEqual({ shouldRetry: false, reason: 'deadline' });
    expect(seen).toMatchObject([{ type: 'retry-refused', reason: 'deadline' }]);
  });

  it('schedules it when the back-off ends before the deadline', () => {
    const clock = new FakeClock();
    const { controller } = setup(
      { attempts: 2, retryOn: '5xx' },
      { ...GET, deadlineMs: 100 },
      { clock, random: fixedRandom(0.5) },
    );
    clock.advance(87);
    expect(attempt(controller, RESPONSE_503)).toMatchObject({ shouldRetry: true, delayMs: 12 });
  });

  it('refuses a server-requested delay that would pass the deadline', () => {
    const { controller } = setup({ attempts: 2, retryOn: '5xx' }, { ...GET, deadlineMs: 1000 });
    const outcome: AttemptOutcome = {
      kind: 'response',
      status: 503,
      headers: new Map([['retry-after', '2']]),
    };
    expect(attempt(controller, outcome)).toEqual({ shouldRetry: false, reason: 'deadline' });
  });
});

describe('never retried', () => {
  it('does not retry a reset after the response started, nor overflow or circuit-open', () => {
    for (const outcome of [
      { kind: 'reset', phase: 'after-response-start' } as const,
      { kind: 'overflow' } as const,
      { kind: 'circuit-open' } as const,
    ]) {
      const { controller, seen } = setup({ attempts: 5, retryOn: '5xx,reset,gateway-error' });
      expect(attempt(controller, outcome)).toEqual({ shouldRetry: false, reason: 'not-retriable' });
      expect(seen).toEqual([]);
    }
  });
});

describe('events', () => {
  it('describes a scheduled retry: route, cluster, attempt, condition, delay and its source', () => {
    const clock = new FakeClock(500);
    const budget = new RetryBudget('outbound|9080||reviews', DEFAULT_RETRY_BUDGET, clock);
    const { controller, seen } = setup(undefined, GET, { clock, random: fixedRandom(0.5) });
    attempt(controller, { kind: 'connect-failure' }, budget);
    expect(seen).toEqual([
      {
        type: 'retry-scheduled',
        route: 'reviews/default',
        cluster: 'outbound|9080||reviews',
        attempt: 2,
        condition: 'connect-failure',
        delayMs: 12,
        delaySource: 'backoff',
        atMs: 500,
      },
    ]);
  });

  it('builds no event when nobody listens', () => {
    const sink = {
      hasListeners: false,
      emit: () => {
        throw new Error('emit must not be called without listeners');
      },
    };
    const plan = compileRetryPlan(compileRetryPolicy({ attempts: 1, retryOn: '5xx' }));
    const controller = new RetryController(plan, POST, {
      clock: new FakeClock(),
      random: seededRandom(1),
      events: sink,
    });
    expect(attempt(controller, RESPONSE_503)).toMatchObject({ reason: 'not-idempotent' });
    const other = new RetryController(plan, GET, {
      clock: new FakeClock(),
      random: seededRandom(1),
      events: sink,
    });
    expect(attempt(other, RESPONSE_503).shouldRetry).toBe(true);
  });
});

describe('budget accounting', () => {
  it('gives back the attempt and the retry slot when the request finishes, even mid back-off', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, clock);
    const { controller } = setup(undefined, GET, { clock });
    expect(attempt(controller, { kind: 'connect-failure' }, budget).shouldRetry).toBe(true);
    expect(budget.activeAttempts).toBe(0);
    expect(budget.activeRetries).toBe(1);
    controller.finish();
    controller.finish();
    expect(budget.activeRetries).toBe(0);
    expect(budget.activeAttempts).toBe(0);
  });

  it('holds the retry slot until the retried attempt ends', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget('c', DEFAULT_RETRY_BUDGET, clock);
    const { controller } = setup(undefined, GET, { clock });
    attempt(controller, { kind: 'connect-failure' }, budget);
    controller.beginAttempt(budget);
    expect(budget.activeRetries).toBe(1);
    expect(budget.activeAttempts).toBe(1);
    controller.endAttempt(RESPONSE_200);
    expect(budget.activeRetries).toBe(0);
    expect(budget.activeAttempts).toBe(0);
  });
});
