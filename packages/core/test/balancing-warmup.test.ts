/**
 * Warmup (Envoy's slow start): a new endpoint's weight ramps as
 * weight × max(minimumPercent, (max(t, 1 s) / duration)^(1 / aggression)) on the injected clock,
 * for round robin and least request. Weighted round robin is deterministic, so shares are checked
 * to within a few picks.
 */
import { describe, expect, it } from 'vitest';
import { createLoadBalancer } from '../src/balancing/cluster-load-balancer.ts';
import type { LoadBalancer, LoadBalancerSettings } from '../src/balancing/load-balancer.ts';
import { warmupFactor, warmupStepMs } from '../src/balancing/warmup.ts';
import type { ClusterEndpoint } from '../src/config/compile/cluster.ts';
import { seededRandom } from '../src/randomness/random.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function endpoint(n: number): ClusterEndpoint {
  return { address: `10.0.0.${n}`, port: 8080, labels: {}, weight: 1, origin: 'test' };
}

const MINUTE = 60_000;
const WARMUP = { duration: MINUTE };

function newcomerShare(lb: LoadBalancer, picks: number): number {
  const picker = lb.picker();
  let count = 0;
  for (let index = 0; index < picks; index++) if (picker.pick()?.endpoint.address === '10.0.0.3') count++;
  return count / picks;
}

/** Two warm endpoints, then a third joins at t = 0. */
function scaledUp(settings: LoadBalancerSettings): { lb: LoadBalancer; clock: FakeClock } {
  const clock = new FakeClock();
  const lb = createLoadBalancer(settings, { random: seededRandom(4), clock });
  lb.update([endpoint(1), endpoint(2)]);
  lb.update([endpoint(1), endpoint(2), endpoint(3)]);
  return { lb, clock };
}

describe('warmupFactor', () => {
  it('starts at minimumPercent, is linear with aggression 1, and reaches 1 at the duration', () => {
    expect(warmupFactor(0, WARMUP)).toBe(0.1);
    expect(warmupFactor(MINUTE / 2, WARMUP)).toBe(0.5);
    expect(warmupFactor(MINUTE - 1, WARMUP)).toBeCloseTo(1, 4);
    expect(warmupFactor(MINUTE, WARMUP)).toBe(1);
    expect(warmupFactor(10 * MINUTE, WARMUP)).toBe(1);
  });

  it('counts at least one second, as Envoy does, and honours minimumPercent 0', () => {
    expect(warmupFactor(0, { duration: MINUTE, minimumPercent: 0 })).toBeCloseTo(1 / 60, 10);
    expect(warmupFactor(500, { duration: MINUTE, minimumPercent: 0 })).toBeCloseTo(1 / 60, 10);
  });

  it('ramps as t^(1/aggression)', () => {
    expect(warmupFactor(MINUTE / 2, { duration: MINUTE, aggression: 2 })).toBeCloseTo(Math.SQRT1_2, 10);
    expect(warmupFactor(MINUTE / 4, { duration: MINUTE, aggression: 0.5 })).toBe(0.1);
    expect(warmupFactor(MINUTE / 2, { duration: MINUTE, aggression: 0.5 })).toBeCloseTo(0.25, 10);
  });

  it('recomputes once a second, or 20 times over a shorter window', () => {
    expect(warmupStepMs(WARMUP)).toBe(1000);
    expect(warmupStepMs({ duration: 10_000 })).toBe(500);
  });
});

describe('warmup in round robin', () => {
  const settings: LoadBalancerSettings = { simple: 'ROUND_ROBIN', warmup: WARMUP };

  it('gives a new endpoint minimumPercent of its weight at t = 0', () => {
    const { lb } = scaledUp(settings);
    expect(newcomerShare(lb, 2100)).toBeCloseTo(0.1 / 2.1, 2);
  });

  it('ramps it linearly: half its weight halfway through', () => {
    const { lb, clock } = scaledUp(settings);
    clock.advance(MINUTE / 2);
    expect(newcomerShare(lb, 2500)).toBeCloseTo(0.5 / 2.5, 2);
  });

  it('gives it a full share once the duration has passed, and stops reading the clock', () => {
    const { lb, clock } = scaledUp(settings);
    clock.advance(MINUTE);
    expect(newcomerShare(lb, 3000)).toBeCloseTo(1 / 3, 2);
    const settled = lb.picker();
    clock.advance(MINUTE);
    expect(lb.picker()).toBe(settled);
  });

  it('rebuilds the picker once per step, not per request', () => {
    const { lb, clock } = scaledUp(settings);
    const first = lb.picker();
    clock.advance(999);
    expect(lb.picker()).toBe(first);
    clock.advance(1);
    expect(lb.picker()).not.toBe(first);
  });

  it('treats the endpoints of the first update as warm', () => {
    const clock = new FakeClock();
    const lb = createLoadBalancer(settings, { random: seededRandom(4), clock });
    lb.update([endpoint(1), endpoint(2), endpoint(3)]);
    expect(newcomerShare(lb, 3000)).toBeCloseTo(1 / 3, 2);
  });

  it('does not warm an endpoint up again after an ejection when `all` keeps it', () => {
    const { lb, clock } = scaledUp(settings);
    clock.advance(MINUTE);
    const all = [endpoint(1), endpoint(2), endpoint(3)];
    lb.update([endpoint(1), endpoint(2)], all);
    lb.update(all, all);
    expect(newcomerShare(lb, 3000)).toBeCloseTo(1 / 3, 2);
    // Gone from the cluster altogether, it is new when it returns.
    lb.update([endpoint(1), endpoint(2)]);
    lb.update(all);
    expect(newcomerShare(lb, 2100)).toBeCloseTo(0.1 / 2.1, 2);
  });
});

describe('warmup in other balancers', () => {
  it('ramps least request, whose pickers switch to the weighted schedule meanwhile', () => {
    const { lb, clock } = scaledUp({ simple: 'LEAST_REQUEST', warmup: WARMUP });
    expect(newcomerShare(lb, 2100)).toBeCloseTo(0.1 / 2.1, 2);
    clock.advance(MINUTE / 2);
    expect(newcomerShare(lb, 2500)).toBeCloseTo(0.5 / 2.5, 2);
  });

  it('does not apply to random or consistent hashing (as in Envoy)', () => {
    const { lb } = scaledUp({ simple: 'RANDOM', warmup: WARMUP });
    const picks = 10_000;
    const share = newcomerShare(lb, picks);
    expect(Math.abs(share - 1 / 3) * picks).toBeLessThan(5 * Math.sqrt((picks * 2) / 9));
  });

  it('leaves no timers behind: refreshes are driven by picker() reads', () => {
    const { lb, clock } = scaledUp({ simple: 'ROUND_ROBIN', warmup: WARMUP });
    lb.picker();
    expect(clock.pendingTimers).toBe(0);
  });
});
