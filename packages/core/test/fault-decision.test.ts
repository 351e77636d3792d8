/**
 * Fault injection decisions: percentages (checked over 10,000 seeded draws against a bound derived
 * from n), absent percentages, both faults at once, gRPC statuses, the active-fault cap and events.
 * Fault blocks go through the real VirtualService schema, so the normalization is tested too.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigObjects } from '../src/config/parse-config.ts';
import type { VirtualServiceResource } from '../src/config/resources.ts';
import { ErrorCodes } from '../src/errors/weft-error.ts';
import { EventChannel } from '../src/events/event-channel.ts';
import { type Random, seededRandom } from '../src/randomness/random.ts';
import { decideFault, type HttpFaultSpec, NO_FAULT } from '../src/resilience/fault/fault-decision.ts';
import type { FaultEvent } from '../src/resilience/fault/fault-events.ts';
import { FaultInjectedError } from '../src/resilience/fault/fault-injected-error.ts';
import { FaultInjector } from '../src/resilience/fault/fault-injector.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

const DRAWS = 10_000;

/** The normalized `fault` of a VirtualService's first HTTP route, parsed by the real schema. */
function faultOf(fault: unknown): HttpFaultSpec {
  const { resources, issues } = parseConfigObjects([
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'ratings', namespace: 'default' },
      spec: { hosts: ['ratings'], http: [{ fault, route: [{ destination: { host: 'ratings' } }] }] },
    },
  ]);
  expect(issues.filter((issue) => issue.severity === 'error')).toEqual([]);
  const spec = (resources[0] as VirtualServiceResource).spec.http?.[0]?.fault;
  if (spec === undefined) throw new Error('the fault did not survive parsing');
  return spec;
}

/** A Random that fails the test if it is ever drawn from. */
const NO_DRAWS: Random = {
  next: () => {
    throw new Error('no random number should be drawn');
  },
};

/** Counts how often each part fires over DRAWS decisions. */
function tally(fault: HttpFaultSpec, seed: number) {
  const random = seededRandom(seed);
  let delayed = 0;
  let aborted = 0;
  let both = 0;
  for (let index = 0; index < DRAWS; index++) {
    const decision = decideFault(fault, random);
    if (decision.delayMs !== undefined) delayed++;
    if (decision.abort !== undefined) aborted++;
    if (decision.delayMs !== undefined && decision.abort !== undefined) both++;
  }
  return { delayed, aborted, both };
}

/**
 * The acceptance band for a binomial count: n·p ± 5 standard deviations, sqrt(n·p·(1−p)).
 * A correct implementation falls outside it with probability < 1e-6.
 */
function expectBinomial(count: number, percent: number, n = DRAWS): void {
  const p = percent / 100;
  const slack = 5 * Math.sqrt(n * p * (1 - p));
  expect(count).toBeGreaterThanOrEqual(Math.floor(n * p - slack));
  expect(count).toBeLessThanOrEqual(Math.ceil(n * p + slack));
}

describe('fault percentages', () => {
  for (const percent of [0.5, 10, 50, 90]) {
    it(`delays and aborts ${percent}% of requests, within 5σ over ${DRAWS} draws`, () => {
      const fault = faultOf({
        delay: { fixedDelay: '2s', percentage: { value: percent } },
        abort: { httpStatus: 503, percentage: { value: percent } },
      });
      const { delayed, aborted } = tally(fault, Math.round(percent * 100));
      expectBinomial(delayed, percent);
      expectBinomial(aborted, percent);
    });
  }

  it('draws the delay and the abort independently', () => {
    const fault = faultOf({
      delay: { fixedDelay: '1s', percentage: { value: 50 } },
      abort: { httpStatus: 500, percentage: { value: 20 } },
    });
    const { both } = tally(fault, 99);
    expectBinomial(both, 10);
  });

  it('injects nothing when the percentage is left out ("no request will be delayed/aborted")', () => {
    const fault = faultOf({ delay: { fixedDelay: '5s' }, abort: { httpStatus: 500 } });
    expect(fault.delay?.percentage?.value).toBe(0);
    expect(tally(fault, 1)).toEqual({ delayed: 0, aborted: 0, both: 0 });
    expect(decideFault(fault, NO_DRAWS)).toBe(NO_FAULT);
  });

  it('injects nothing for a route without a fault', () => {
    expect(decideFault(undefined, NO_DRAWS)).toBe(NO_FAULT);
  });

  it('always injects at 100% without drawing, delay in milliseconds', () => {
    const fault = faultOf({
      delay: { fixedDelay: '1.5s', percentage: { value: 100 } },
      abort: { httpStatus: 418, percentage: { value: 100 } },
    });
    expect(decideFault(fault, NO_DRAWS)).toEqual({ delayMs: 1500, abort: { httpStatus: 418 } });
  });

  it('honours the deprecated integer delay.percent when percentage is absent', () => {
    const fault = faultOf({ delay: { fixedDelay: '1s', percent: 30 } });
    expectBinomial(tally(fault, 5).delayed, 30);
  });

  it('turns a gRPC status name into its code', () => {
    const fault = faultOf({ abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 100 } } });
    expect(decideFault(fault, NO_DRAWS)).toEqual({ abort: { grpcStatus: 14 } });
  });

  it('returns the same frozen decision object for every faulted request (no per-request allocation)', () => {
    const fault = faultOf({ abort: { httpStatus: 503, percentage: { value: 100 } } });
    const first = decideFault(fault, NO_DRAWS);
    expect(decideFault(fault, NO_DRAWS)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('the fault injector', () => {
  function injector(maxActiveFaults?: number) {
    const events = new EventChannel<FaultEvent>();
    const seen: FaultEvent[] = [];
    events.on((event) => seen.push(event));
    const faults = new FaultInjector({
      clock: new FakeClock(42),
      random: seededRandom(3),
      events,
      ...(maxActiveFaults === undefined ? {} : { maxActiveFaults }),
    });
    return { faults, seen };
  }

  it('emits a fault-injected event with what was injected', () => {
    const { faults, seen } = injector();
    const fault = faultOf({
      delay: { fixedDelay: '100ms', percentage: { value: 100 } },
      abort: { grpcStatus: 'INTERNAL', percentage: { value: 100 } },
    });
    faults.decide(fault, 'ratings/0');
    expect(seen).toEqual([
      { type: 'fault-injected', route: 'ratings/0', delayMs: 100, grpcStatus: 13, atMs: 42 },
    ]);
  });

  it('emits nothing for a request that gets no fault', () => {
    const { faults, seen } = injector();
    expect(faults.decide(faultOf({ abort: { httpStatus: 500 } }), 'r')).toBe(NO_FAULT);
    expect(seen).toEqual([]);
  });

  it('stops injecting at maxActiveFaults, reports the overflow, and resumes when a fault ends', () => {
    const { faults, seen } = injector(2);
    const fault = faultOf({ delay: { fixedDelay: '10s', percentage: { value: 100 } } });
    const first = faults.decide(fault, 'r');
    const second = faults.decide(fault, 'r');
    expect([first.delayMs, second.delayMs]).toEqual([10_000, 10_000]);
    expect(faults.decide(fault, 'r')).toBe(NO_FAULT);
    expect(seen.at(-1)).toEqual({ type: 'fault-overflow', route: 'r', maxActiveFaults: 2, atMs: 42 });
    faults.release(first);
    faults.release(NO_FAULT);
    expect(faults.activeFaults).toBe(1);
    expect(faults.decide(fault, 'r').delayMs).toBe(10_000);
  });

  it('describes an abort as a WeftError with code, status and the FI flag', () => {
    const error = new FaultInjectedError({ httpStatus: 503 }, 'ratings/0');
    expect(error).toMatchObject({ code: ErrorCodes.faultInjected, httpStatus: 503, responseFlag: 'FI' });
    expect(error.message).toContain('HTTP 503');
  });
});
