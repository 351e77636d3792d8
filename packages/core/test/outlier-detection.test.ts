/**
 * Outlier detection for one cluster, against Envoy's consecutive-error detectors as Istio configures
 * them: counting, ejection and return on a FakeClock, backoff growth and decay, the ejection cap,
 * minHealthPercent (Envoy's panic threshold) and endpoint-set updates.
 */
import { describe, expect, it } from 'vitest';
import { endpointKey } from '../src/balancing/endpoint-key.ts';
import { OutlierDetector } from '../src/resilience/outlier/outlier-detector.ts';
import type { OutlierEvent } from '../src/resilience/outlier/outlier-events.ts';
import { outcomeForStatus } from '../src/resilience/outlier/outlier-outcome.ts';
import {
  type OutlierDetectionPolicy,
  type OutlierSettingsOptions,
  resolveOutlierSettings,
} from '../src/resilience/outlier/outlier-settings.ts';
import { recordAttempt } from '../src/resilience/outlier/record-attempt.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

const A = '10.0.0.1:8080';
const B = '10.0.0.2:8080';
const C = '10.0.0.3:8080';
const D = '10.0.0.4:8080';

function keys(count: number): string[] {
  return Array.from({ length: count }, (_, index) => endpointKey(`10.0.1.${index + 1}`, 9080));
}

function setup(
  policy: OutlierDetectionPolicy,
  endpoints = [A, B, C, D],
  options: OutlierSettingsOptions = {},
) {
  const clock = new FakeClock();
  const detector = new OutlierDetector({
    cluster: 'outbound|9080||reviews.default.svc.cluster.local',
    settings: resolveOutlierSettings(policy, options),
    clock,
    endpoints,
  });
  const events: OutlierEvent[] = [];
  detector.on((event) => events.push(event));
  return { clock, detector, events };
}

function repeat(times: number, action: () => void): void {
  for (let index = 0; index < times; index++) action();
}

describe('resolveOutlierSettings', () => {
  it("applies Envoy's and Istio's defaults to an empty outlierDetection", () => {
    expect(resolveOutlierSettings({})).toEqual({
      consecutive5xxErrors: 5,
      consecutiveGatewayErrors: 0,
      splitExternalLocalOriginErrors: false,
      consecutiveLocalOriginFailures: 0,
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionTimeMs: 300_000,
      maxEjectionPercent: 10,
      minHealthPercent: 0,
      isOneEjectionAlwaysAllowed: false,
    });
  });

  it('reads maxEjectionPercent 0 as unset (10%) and keeps consecutive5xxErrors 0 as off', () => {
    const settings = resolveOutlierSettings({ maxEjectionPercent: 0, consecutive5xxErrors: 0 });
    expect(settings.maxEjectionPercent).toBe(10);
    expect(settings.consecutive5xxErrors).toBe(0);
  });

  it('defaults consecutiveLocalOriginFailures to 5 in split mode and stretches the cap to a long base', () => {
    const settings = resolveOutlierSettings({
      splitExternalLocalOriginErrors: true,
      baseEjectionTime: 600_000,
    });
    expect(settings.consecutiveLocalOriginFailures).toBe(5);
    expect(settings.maxEjectionTimeMs).toBe(600_000);
  });
});

describe('OutlierDetector counting', () => {
  it('ejects an endpoint after 3 consecutive 5xx, and a success in between restarts the count', () => {
    const { detector, events } = setup({ consecutive5xxErrors: 3, maxEjectionPercent: 100 });
    detector.recordHttpStatus(A, 500);
    detector.recordHttpStatus(A, 500);
    detector.recordHttpStatus(A, 200);
    detector.recordHttpStatus(A, 500);
    detector.recordHttpStatus(A, 500);
    expect(detector.isEjected(A)).toBe(false);
    detector.recordHttpStatus(A, 500);
    expect(detector.isEjected(A)).toBe(true);
    expect(detector.isEjected(B)).toBe(false);
    expect(events).toEqual([
      {
        type: 'ejected',
        cluster: 'outbound|9080||reviews.default.svc.cluster.local',
        endpoint: A,
        reason: 'consecutive-5xx',
        durationMs: 30_000,
        times: 1,
        atMs: 0,
      },
    ]);
  });

  it('counts gateway errors separately: a 500 breaks a run of 502/503/504', () => {
    const { detector, events } = setup({
      consecutive5xxErrors: 0,
      consecutiveGatewayErrors: 2,
      maxEjectionPercent: 100,
    });
    detector.record(A, outcomeForStatus(502));
    detector.record(A, outcomeForStatus(500));
    detector.record(A, outcomeForStatus(503));
    expect(detector.isEjected(A)).toBe(false);
    detector.record(A, outcomeForStatus(504));
    expect(detector.isEjected(A)).toBe(true);
    expect(events[0]).toMatchObject({ type: 'ejected', reason: 'consecutive-gateway-error' });
  });

  it('does not enforce gateway errors unless consecutiveGatewayErrors is set', () => {
    const { detector, events } = setup({ consecutive5xxErrors: 6, maxEjectionPercent: 100 });
    repeat(5, () => detector.recordHttpStatus(A, 503));
    expect(detector.isEjected(A)).toBe(false);
    detector.recordHttpStatus(A, 503);
    expect(events[0]).toMatchObject({ type: 'ejected', reason: 'consecutive-5xx' });
  });

  it('counts local-origin failures as gateway errors when splitExternalLocalOriginErrors is off', () => {
    const { detector, events } = setup({ consecutive5xxErrors: 3, maxEjectionPercent: 100 });
    detector.record(A, { kind: 'local-origin-failure', cause: 'connect-failure' });
    detector.record(A, { kind: 'local-origin-failure', cause: 'reset' });
    detector.recordHttpStatus(A, 500);
    expect(detector.isEjected(A)).toBe(true);
    expect(events[0]).toMatchObject({ reason: 'consecutive-5xx' });
  });

  it('in split mode counts local-origin failures apart, and any HTTP answer ends their run', () => {
    const { detector, events } = setup({
      consecutive5xxErrors: 3,
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailures: 2,
      maxEjectionPercent: 100,
    });
    // A's 5xx run is not broken or extended by local failures.
    detector.recordHttpStatus(A, 500);
    detector.recordHttpStatus(A, 500);
    detector.recordLocalOriginFailure(A);
    expect(detector.isEjected(A)).toBe(false);
    detector.recordHttpStatus(A, 500);
    expect(events.at(-1)).toMatchObject({ endpoint: A, reason: 'consecutive-5xx' });
    // B: a response between two timeouts means the connection worked.
    detector.record(B, { kind: 'local-origin-failure', cause: 'timeout' });
    detector.recordHttpStatus(B, 503);
    detector.record(B, { kind: 'local-origin-failure', cause: 'timeout' });
    expect(detector.isEjected(B)).toBe(false);
    detector.record(B, { kind: 'local-origin-failure', cause: 'connect-failure' });
    expect(events.at(-1)).toMatchObject({ endpoint: B, reason: 'consecutive-local-origin-failure' });
  });

  it('with outlierDetectionHttpErrorCodes counts only those statuses, and a 500 then counts as success', () => {
    const { detector } = setup({
      consecutive5xxErrors: 2,
      outlierDetectionHttpErrorCodes: [429],
      maxEjectionPercent: 100,
    });
    detector.recordHttpStatus(A, 500);
    detector.recordHttpStatus(A, 500);
    expect(detector.isEjected(A)).toBe(false);
    detector.recordHttpStatus(A, 429);
    detector.recordHttpStatus(A, 500);
    detector.recordHttpStatus(A, 429);
    expect(detector.isEjected(A)).toBe(false);
    detector.recordHttpStatus(A, 429);
    expect(detector.isEjected(A)).toBe(true);
  });

  it("maps the retry layer's attempt outcomes, ignoring the ones decided in process", () => {
    const { detector } = setup({ consecutive5xxErrors: 2, maxEjectionPercent: 100 });
    recordAttempt(detector, A, { kind: 'per-try-timeout' });
    recordAttempt(detector, A, { kind: 'overflow' });
    recordAttempt(detector, A, { kind: 'circuit-open' });
    expect(detector.isEjected(A)).toBe(false);
    recordAttempt(detector, A, { kind: 'response', status: 502, headers: new Map() });
    expect(detector.isEjected(A)).toBe(true);
  });

  it('ignores outcomes for endpoints it does not know', () => {
    const { detector } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100 });
    detector.recordHttpStatus('10.9.9.9:1', 500);
    expect(detector.isEjected('10.9.9.9:1')).toBe(false);
    expect(detector.ejectedCount).toBe(0);
  });
});

describe('OutlierDetector ejection time', () => {
  it('returns an endpoint at the first sweep at or after baseEjectionTime', () => {
    const { clock, detector, events } = setup({
      consecutive5xxErrors: 1,
      interval: 10_000,
      baseEjectionTime: 30_000,
      maxEjectionPercent: 100,
    });
    detector.recordHttpStatus(A, 500);
    clock.advance(29_999);
    expect(detector.isEjected(A)).toBe(true);
    clock.advance(1);
    expect(detector.isEjected(A)).toBe(false);
    expect(events.at(-1)).toEqual({
      type: 'returned',
      cluster: 'outbound|9080||reviews.default.svc.cluster.local',
      endpoint: A,
      ejectedForMs: 30_000,
      atMs: 30_000,
    });
  });

  it('stays out until the next sweep when the ejection ends between sweeps', () => {
    const { clock, detector } = setup({
      consecutive5xxErrors: 1,
      interval: 10_000,
      baseEjectionTime: 15_000,
      maxEjectionPercent: 100,
    });
    detector.recordHttpStatus(A, 500);
    clock.advance(19_999);
    expect(detector.isEjected(A)).toBe(true);
    clock.advance(1);
    expect(detector.isEjected(A)).toBe(false);
  });

  it('ejects for base × n on repeated ejections, capped at the max ejection time', () => {
    const { clock, detector, events } = setup(
      { consecutive5xxErrors: 1, interval: 1_000, baseEjectionTime: 10_000, maxEjectionPercent: 100 },
      [A, B],
      { maxEjectionTimeMs: 25_000 },
    );
    const durations: number[] = [];
    for (let round = 0; round < 5; round++) {
      detector.recordHttpStatus(A, 500);
      const ejected = events.at(-1);
      if (ejected?.type !== 'ejected') throw new Error('expected an ejection');
      durations.push(ejected.durationMs);
      expect(ejected.times).toBe(round + 1);
      clock.advance(ejected.durationMs);
      expect(detector.isEjected(A)).toBe(false);
    }
    expect(durations).toEqual([10_000, 20_000, 25_000, 25_000, 25_000]);
  });

  it('shortens the next ejection by one base for each interval the endpoint stayed healthy', () => {
    const { clock, detector, events } = setup({
      consecutive5xxErrors: 1,
      interval: 10_000,
      baseEjectionTime: 10_000,
      maxEjectionPercent: 100,
    });
    detector.recordHttpStatus(A, 500); // 10 s
    clock.advance(10_000);
    detector.recordHttpStatus(A, 500); // 20 s
    clock.advance(20_000);
    detector.recordHttpStatus(A, 500); // 30 s
    clock.advance(30_000);
    expect(detector.isEjected(A)).toBe(false);
    clock.advance(20_000); // two healthy sweeps: backoff 3 → 1
    detector.recordHttpStatus(A, 500);
    expect(events.at(-1)).toMatchObject({ type: 'ejected', durationMs: 20_000, times: 4 });
  });

  it('stops growing the multiplier once past the cap, so recovery starts from there', () => {
    const { clock, detector, events } = setup(
      { consecutive5xxErrors: 1, interval: 10_000, baseEjectionTime: 10_000, maxEjectionPercent: 100 },
      [A, B],
      { maxEjectionTimeMs: 20_000 },
    );
    for (let round = 0; round < 5; round++) {
      detector.recordHttpStatus(A, 500);
      const ejected = events.at(-1);
      if (ejected?.type !== 'ejected') throw new Error('expected an ejection');
      clock.advance(ejected.durationMs);
    }
    expect(detector.isEjected(A)).toBe(false);
    clock.advance(30_000); // three healthy sweeps take the multiplier from 3 (not 5) to 0
    detector.recordHttpStatus(A, 500);
    expect(events.at(-1)).toMatchObject({ type: 'ejected', durationMs: 10_000, times: 6 });
  });

  it('runs no timer while nothing is ejected or decaying', () => {
    const { clock, detector } = setup({ consecutive5xxErrors: 1, interval: 10_000, maxEjectionPercent: 100 });
    expect(clock.pendingTimers).toBe(0);
    detector.recordHttpStatus(A, 500);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(30_000); // returned, backoff 1
    clock.advance(10_000); // backoff 0
    expect(clock.pendingTimers).toBe(0);
    detector.dispose();
  });
});

describe('OutlierDetector ejection cap', () => {
  it('ejects at most 10% of 10 endpoints by default and reports the refused ejection', () => {
    const endpoints = keys(10);
    const { detector, events } = setup({ consecutive5xxErrors: 1 }, endpoints);
    detector.recordHttpStatus(endpoints[0] ?? '', 500);
    detector.recordHttpStatus(endpoints[1] ?? '', 500);
    expect(detector.isEjected(endpoints[0] ?? '')).toBe(true);
    expect(detector.isEjected(endpoints[1] ?? '')).toBe(false);
    expect(detector.ejectedCount).toBe(1);
    expect(events[1]).toMatchObject({
      type: 'ejection-overflow',
      endpoint: endpoints[1],
      ejectedCount: 1,
      endpointCount: 10,
      maxEjectionPercent: 10,
    });
  });

  it('ejects 3 of 10 with maxEjectionPercent 30, and a refused endpoint needs a fresh run', () => {
    const endpoints = keys(10);
    const { detector } = setup({ consecutive5xxErrors: 2, maxEjectionPercent: 30 }, endpoints);
    for (const endpoint of endpoints.slice(0, 4)) repeat(2, () => detector.recordHttpStatus(endpoint, 500));
    expect(detector.ejectedCount).toBe(3);
    expect(detector.isEjected(endpoints[3] ?? '')).toBe(false);
    detector.recordHttpStatus(endpoints[3] ?? '', 500);
    expect(detector.describe().find((status) => status.endpoint === endpoints[3])?.consecutive5xx).toBe(1);
  });

  it("ejects nobody from 5 endpoints at 10% (Envoy's strict rule) unless one ejection is always allowed", () => {
    const strict = setup({ consecutive5xxErrors: 1 }, keys(5));
    strict.detector.recordHttpStatus(keys(5)[0] ?? '', 500);
    expect(strict.detector.ejectedCount).toBe(0);

    const lenient = setup({ consecutive5xxErrors: 1 }, keys(5), { isOneEjectionAlwaysAllowed: true });
    lenient.detector.recordHttpStatus(keys(5)[0] ?? '', 500);
    lenient.detector.recordHttpStatus(keys(5)[1] ?? '', 500);
    expect(lenient.detector.ejectedCount).toBe(1);
  });
});

describe('OutlierDetector healthy set', () => {
  const byKey = (endpoint: string) => endpoint;

  it('balances over all endpoints once fewer than minHealthPercent are healthy', () => {
    const { detector } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100, minHealthPercent: 50 });
    detector.recordHttpStatus(A, 500);
    detector.recordHttpStatus(B, 500);
    expect(detector.selectHealthy([A, B, C, D], byKey)).toEqual({ endpoints: [C, D], isPanic: false });
    detector.recordHttpStatus(C, 500);
    expect(detector.isEjected(C)).toBe(true);
    expect(detector.selectHealthy([A, B, C, D], byKey)).toEqual({ endpoints: [A, B, C, D], isPanic: true });
  });

  it('never panics with the default minHealthPercent of 0: all ejected leaves nothing to pick', () => {
    const { detector } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100 });
    for (const endpoint of [A, B, C, D]) detector.recordHttpStatus(endpoint, 500);
    expect(detector.panicThresholdPercent).toBe(0);
    expect(detector.selectHealthy([A, B, C, D], byKey)).toEqual({ endpoints: [], isPanic: false });
  });
});

describe('OutlierDetector endpoint updates', () => {
  it('keeps ejections and counters of endpoints that remain, and forgets removed ones', () => {
    const { clock, detector } = setup({ consecutive5xxErrors: 3, maxEjectionPercent: 100 });
    repeat(3, () => detector.recordHttpStatus(A, 500));
    repeat(2, () => detector.recordHttpStatus(B, 500));
    repeat(3, () => detector.recordHttpStatus(C, 500));
    const E = '10.0.0.5:8080';
    detector.updateEndpoints([A, B, E]);
    expect(detector.isEjected(A)).toBe(true);
    expect(detector.ejectedCount).toBe(1);
    detector.recordHttpStatus(B, 500);
    expect(detector.isEjected(B)).toBe(true);
    clock.advance(30_000);
    expect(detector.isEjected(A)).toBe(false);
    detector.updateEndpoints([A, B, C, E]);
    expect(detector.isEjected(C)).toBe(false);
    expect(detector.endpointCount).toBe(4);
  });
});

describe('endpointKey', () => {
  it('brackets IPv6 addresses', () => {
    expect(endpointKey('10.0.0.1', 80)).toBe('10.0.0.1:80');
    expect(endpointKey('::1', 80)).toBe('[::1]:80');
  });
});
