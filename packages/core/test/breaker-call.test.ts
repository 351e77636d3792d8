/**
 * The call-level circuit breaker (a Weft route extension built on opossum), driven by a FakeClock:
 * opening on the error percentage, failing fast with UO, half-open after resetTimeout, a single
 * trial, the Clock-driven rolling window, and the config schema.
 */
import { describe, expect, it } from 'vitest';
import { CALL_BREAKER_DEFAULTS, callBreakerConfigSchema } from '../src/resilience/breaker/breaker-config.ts';
import type { BreakerPermit } from '../src/resilience/breaker/breaker-permit.ts';
import type { BreakerEvent, CircuitOpen } from '../src/resilience/breaker/breaker-state.ts';
import { CallBreaker } from '../src/resilience/breaker/call-breaker.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function setup(overrides: Partial<typeof CALL_BREAKER_DEFAULTS> = {}) {
  const clock = new FakeClock();
  const breaker = new CallBreaker({
    name: 'reviews/route-0',
    settings: { ...CALL_BREAKER_DEFAULTS, volumeThreshold: 4, ...overrides },
    clock,
  });
  const events: BreakerEvent['type'][] = [];
  const stop = breaker.on((event) => events.push(event.type));
  return { clock, breaker, events, stop };
}

function permit(acquired: BreakerPermit | CircuitOpen): BreakerPermit {
  if (acquired.kind !== 'permit') throw new Error('expected a permit, the breaker is open');
  return acquired;
}

async function calls(breaker: CallBreaker, outcomes: readonly ('ok' | 'fail')[]): Promise<void> {
  for (const outcome of outcomes) {
    const acquired = permit(breaker.tryAcquire());
    if (outcome === 'ok') acquired.success();
    else acquired.failure();
    await acquired.settled;
  }
}

const OPEN: CircuitOpen = { kind: 'circuit-open', breaker: 'reviews/route-0', responseFlag: 'UO' };

describe('CallBreaker', () => {
  it('opens once failures pass the threshold over at least volumeThreshold calls, then fails fast with UO', async () => {
    const { breaker, events } = setup();
    await calls(breaker, ['fail', 'fail', 'fail']);
    expect(breaker.state.kind).toBe('closed'); // 3 calls < volumeThreshold 4
    await calls(breaker, ['fail']);
    expect(breaker.state).toEqual({ kind: 'open', openedAtMs: 0, halfOpenAtMs: 30_000 });
    expect(breaker.tryAcquire()).toEqual(OPEN);
    expect(events).toEqual(['opened', 'rejected']);
    breaker.dispose();
  });

  it('stays closed at exactly the threshold percentage', async () => {
    const { breaker } = setup();
    await calls(breaker, ['ok', 'ok', 'fail', 'fail']);
    expect(breaker.state.kind).toBe('closed');
    breaker.dispose();
  });

  it('honours a configured errorThresholdPercentage', async () => {
    const { breaker } = setup({ errorThresholdPercentage: 80 });
    await calls(breaker, ['ok', 'fail', 'fail', 'fail', 'fail']);
    expect(breaker.state.kind).toBe('closed'); // 80% is not above 80%
    await calls(breaker, ['fail']);
    expect(breaker.state.kind).toBe('open'); // 5 of 6
    breaker.dispose();
  });

  it('half-opens after resetTimeout on the clock and lets one trial through; success closes it', async () => {
    const { clock, breaker, events } = setup({ resetTimeoutMs: 5_000 });
    await calls(breaker, ['fail', 'fail', 'fail', 'fail']);
    clock.advance(4_999);
    expect(breaker.state.kind).toBe('open');
    clock.advance(1);
    expect(breaker.state).toEqual({ kind: 'half-open', isTrialRunning: false });
    const trial = permit(breaker.tryAcquire());
    expect(breaker.tryAcquire()).toEqual(OPEN);
    trial.success();
    expect(breaker.state.kind).toBe('closed');
    expect(events).toEqual(['opened', 'half-opened', 'rejected', 'closed']);
    expect(breaker.tryAcquire().kind).toBe('permit');
    breaker.dispose();
  });

  it('re-opens when the half-open trial fails, for another resetTimeout', async () => {
    const { clock, breaker, events } = setup({ resetTimeoutMs: 5_000 });
    await calls(breaker, ['fail', 'fail', 'fail', 'fail']);
    clock.advance(5_000);
    permit(breaker.tryAcquire()).failure();
    expect(breaker.state).toEqual({ kind: 'open', openedAtMs: 5_000, halfOpenAtMs: 10_000 });
    clock.advance(5_000);
    expect(breaker.state.kind).toBe('half-open');
    expect(events).toEqual(['opened', 'half-opened', 'opened', 'half-opened']);
    breaker.dispose();
  });

  it('gives the trial to the next call when the trial was cancelled', async () => {
    const { clock, breaker } = setup({ resetTimeoutMs: 5_000 });
    await calls(breaker, ['fail', 'fail', 'fail', 'fail']);
    clock.advance(5_000);
    permit(breaker.tryAcquire()).ignore();
    expect(breaker.state).toEqual({ kind: 'half-open', isTrialRunning: false });
    expect(breaker.tryAcquire().kind).toBe('permit');
    breaker.dispose();
  });

  it('forgets failures that slid out of the rolling window on the clock', async () => {
    const { clock, breaker } = setup({ rollingCountTimeoutMs: 1_000, rollingCountBuckets: 10 });
    await calls(breaker, ['fail', 'fail', 'fail']);
    clock.advance(1_000);
    await calls(breaker, ['fail']);
    expect(breaker.state.kind).toBe('closed');
    await calls(breaker, ['fail', 'fail', 'fail']);
    expect(breaker.state.kind).toBe('open');
    breaker.dispose();
  });

  it('execute() counts rejections and classified values as failures, but not cancelled calls', async () => {
    const { breaker } = setup();
    for (let index = 0; index < 4; index++) {
      const controller = new AbortController();
      await expect(
        breaker.execute((signal) => {
          controller.abort(new Error('caller went away'));
          return Promise.reject(signal?.reason);
        }, controller.signal),
      ).rejects.toThrow('caller went away');
    }
    expect(breaker.state.kind).toBe('closed');

    const served = await breaker.execute(
      () => Promise.resolve(503),
      undefined,
      (status) => status >= 500,
    );
    expect(served).toEqual({ kind: 'completed', value: 503 });
    await expect(breaker.execute(() => Promise.reject(new Error('reset')))).rejects.toThrow('reset');
    await breaker.execute(
      () => Promise.resolve(502),
      undefined,
      (status) => status >= 500,
    );
    await breaker.execute(
      () => Promise.resolve(500),
      undefined,
      (status) => status >= 500,
    );
    await breaker.execute(
      () => Promise.resolve(504),
      undefined,
      (status) => status >= 500,
    );
    expect(breaker.state.kind).toBe('open');
    expect(await breaker.execute(() => Promise.resolve(200))).toEqual(OPEN);
    breaker.dispose();
  });

  it('stops delivering events to a disposed listener, and a disposed breaker passes calls through', async () => {
    const { breaker, events, stop } = setup();
    stop();
    await calls(breaker, ['fail', 'fail', 'fail', 'fail']);
    expect(breaker.state.kind).toBe('open');
    expect(events).toEqual([]);
    breaker.dispose();
    expect(breaker.tryAcquire().kind).toBe('permit');
  });
});

describe('callBreakerConfigSchema', () => {
  it('fills in the defaults and converts durations to ms', () => {
    expect(callBreakerConfigSchema.parse({ resetTimeout: '10s' })).toEqual({
      ...CALL_BREAKER_DEFAULTS,
      resetTimeoutMs: 10_000,
    });
  });

  it('rejects out-of-range values and windows too short for their buckets', () => {
    expect(callBreakerConfigSchema.safeParse({ errorThresholdPercentage: 150 }).success).toBe(false);
    expect(callBreakerConfigSchema.safeParse({ volumeThreshold: -1 }).success).toBe(false);
    expect(callBreakerConfigSchema.safeParse({ resetTimeout: '0s' }).success).toBe(false);
    expect(callBreakerConfigSchema.safeParse({ maxFailures: 3 }).success).toBe(false);
    const tooShort = callBreakerConfigSchema.safeParse({
      rollingCountTimeout: '5ms',
      rollingCountBuckets: 10,
    });
    expect(tooShort.success).toBe(false);
    expect(tooShort.error?.issues[0]?.path).toEqual(['rollingCountBuckets']);
  });
});
