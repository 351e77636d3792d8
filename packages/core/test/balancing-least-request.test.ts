/**
 * Least request (Envoy: power of two choices on equal weights, an EDF schedule biased by active
 * requests on unequal ones) and Weft's peak-EWMA extension, with the per-endpoint load records
 * they read. Requests are simulated on a fake clock: pick, onStart, advance, onEnd.
 */
import { describe, expect, it } from 'vitest';
import { createLoadBalancer } from '../src/balancing/cluster-load-balancer.ts';
import { EndpointLoad, LATENCY_DECAY_MS, UNMEASURED_BUSY_COST } from '../src/balancing/endpoint-load.ts';
import { leastRequestBalancer } from '../src/balancing/least-request.ts';
import type { LbEndpoint, LoadBalancer, LoadBalancerSettings } from '../src/balancing/load-balancer.ts';
import type { ClusterEndpoint } from '../src/config/compile/cluster.ts';
import { seededRandom } from '../src/randomness/random.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function endpoint(n: number, weight = 1): ClusterEndpoint {
  return { address: `10.0.0.${n}`, port: 8080, labels: {}, weight, origin: 'test' };
}

/** An endpoint as pickers see it, for driving a factory directly. */
function lbEndpoint(n: number, weight: number, clock: FakeClock): LbEndpoint {
  return {
    endpoint: endpoint(n, weight),
    key: `10.0.0.${n}:8080`,
    weight,
    effectiveWeight: weight,
    load: new EndpointLoad(clock),
  };
}

const LEAST_REQUEST: LoadBalancerSettings = { simple: 'LEAST_REQUEST' };

function balancer(
  settings: LoadBalancerSettings | undefined,
  endpoints: readonly ClusterEndpoint[],
  options: { clock?: FakeClock; defaultBalancer?: string; seed?: number } = {},
): LoadBalancer {
  const lb = createLoadBalancer(settings, {
    random: seededRandom(options.seed ?? 11),
    clock: options.clock ?? new FakeClock(),
    defaultBalancer: options.defaultBalancer,
  });
  lb.update(endpoints);
  return lb;
}

function mustPick(lb: LoadBalancer): LbEndpoint {
  const picked = lb.picker().pick();
  if (picked === undefined) throw new Error('no endpoint picked');
  return picked;
}

/** Holds `active` requests open on the endpoint. */
function occupy(lb: LoadBalancer, address: string, active: number): void {
  const target = Array.from({ length: 500 }, () => mustPick(lb)).find(
    (picked) => picked.endpoint.address === address,
  );
  if (target === undefined) throw new Error(`${address} never picked`);
  for (let index = 0; index < active; index++) target.load.onStart();
}

/** Sequential requests: each completes before the next is picked. */
function runSequential(
  lb: LoadBalancer,
  clock: FakeClock,
  requests: number,
  latencyMs: (address: string) => number,
) {
  const counts = new Map<string, number>();
  for (let index = 0; index < requests; index++) {
    const picked = mustPick(lb);
    const latency = latencyMs(picked.endpoint.address);
    picked.load.onStart();
    clock.advance(latency);
    picked.load.onEnd(latency, true);
    counts.set(picked.endpoint.address, (counts.get(picked.endpoint.address) ?? 0) + 1);
  }
  return counts;
}

function fiveSigma(trials: number, probability: number): number {
  return 5 * Math.sqrt(trials * probability * (1 - probability));
}

describe('least request, equal weights (P2C)', () => {
  it('is what an unset policy gets (Istio ≥ 1.14)', () => {
    expect(balancer(undefined, [endpoint(1)]).name).toBe('least_request');
    expect(balancer({ simple: 'UNSPECIFIED' }, [endpoint(1)]).name).toBe('least_request');
  });

  it('prefers the less loaded of two distinct samples and never picks the most loaded', () => {
    const lb = balancer(
      LEAST_REQUEST,
      [1, 2, 3, 4].map((n) => endpoint(n)),
    );
    occupy(lb, '10.0.0.1', 5);
    occupy(lb, '10.0.0.2', 3);
    occupy(lb, '10.0.0.3', 1);
    const picks = 10_000;
    const counts = new Map<string, number>();
    for (let index = 0; index < picks; index++) {
      const address = mustPick(lb).endpoint.address;
      counts.set(address, (counts.get(address) ?? 0) + 1);
    }
    // Of the 6 equally likely pairs, the idle .4 wins 3, .3 wins 2, .2 wins 1, .1 none.
    expect(counts.get('10.0.0.1')).toBeUndefined();
    for (const [address, share] of [
      ['10.0.0.4', 3 / 6],
      ['10.0.0.3', 2 / 6],
      ['10.0.0.2', 1 / 6],
    ] as const) {
      expect(Math.abs((counts.get(address) ?? 0) - picks * share)).toBeLessThan(fiveSigma(picks, share));
    }
  });

  it('keeps concurrent requests balanced far tighter than random placement', () => {
    const endpoints = [1, 2, 3, 4].map((n) => endpoint(n));
    const lb = balancer(LEAST_REQUEST, endpoints);
    const held = Array.from({ length: 400 }, () => {
      const picked = mustPick(lb);
      picked.load.onStart();
      return picked;
    });
    const active = [...new Set(held.map((picked) => picked.load))].map((load) => load.active);
    expect(active.reduce((sum, count) => sum + count, 0)).toBe(400);
    // Random placement of 400 requests on 4 endpoints spreads by ±8.7 (1σ); P2C stays within 2.
    expect(Math.max(...active) - Math.min(...active)).toBeLessThanOrEqual(2);
  });

  it('scans every endpoint when choiceCount is at least the endpoint count', () => {
    const clock = new FakeClock();
    const builder = leastRequestBalancer({ choiceCount: 8 }).create({
      settings: undefined,
      random: seededRandom(5),
      clock,
    });
    const endpoints = [1, 1, 1, 1].map((weight, index) => lbEndpoint(index + 1, weight, clock));
    for (const [index, picked] of endpoints.entries())
      for (let n = 0; n < 4 - index; n++) picked.load.onStart();
    const picker = builder(endpoints);
    for (let index = 0; index < 50; index++) expect(picker.pick()?.endpoint.address).toBe('10.0.0.4');
  });
});

describe('least request, unequal weights (active request bias)', () => {
  it('follows weights when every endpoint is idle', () => {
    const clock = new FakeClock();
    const lb = balancer(LEAST_REQUEST, [endpoint(1, 1), endpoint(2, 3)], { clock });
    const counts = runSequential(lb, clock, 4000, () => 1);
    expect(Math.abs((counts.get('10.0.0.1') ?? 0) - 1000)).toBeLessThanOrEqual(2);
    expect(Math.abs((counts.get('10.0.0.2') ?? 0) - 3000)).toBeLessThanOrEqual(2);
  });

  it('divides a weight by (active + 1): a busy heavy endpoint yields to an idle light one', () => {
    const clock = new FakeClock();
    const lb = balancer(LEAST_REQUEST, [endpoint(1, 1), endpoint(2, 3)], { clock });
    occupy(lb, '10.0.0.2', 5);
    const counts = runSequential(lb, clock, 3000, () => 1);
    // Effective weights 1/1 and 3/6: the light endpoint gets 2/3 (the schedule is deterministic).
    expect(Math.abs((counts.get('10.0.0.1') ?? 0) - 2000)).toBeLessThanOrEqual(3);
  });

  it('ignores load with activeRequestBias 0 (weighted round robin)', () => {
    const factory = leastRequestBalancer({ activeRequestBias: 0 });
    const clock = new FakeClock();
    const builder = factory.create({ settings: undefined, random: seededRandom(1), clock });
    const endpoints = [1, 3].map((weight, index) => lbEndpoint(index + 1, weight, clock));
    for (let n = 0; n < 50; n++) endpoints[1]?.load.onStart();
    const picker = builder(endpoints);
    const heavy = Array.from({ length: 4000 }, () => picker.pick()).filter(
      (picked) => picked === endpoints[1],
    );
    expect(Math.abs(heavy.length - 3000)).toBeLessThanOrEqual(2);
  });
});

describe('endpoint load records', () => {
  it('count requests in flight, and never go below zero', () => {
    const load = new EndpointLoad(new FakeClock());
    load.onStart();
    load.onStart();
    load.onEnd(5, true);
    expect(load.active).toBe(1);
    load.onEnd(5, true);
    load.onEnd(5, true);
    expect(load.active).toBe(0);
  });

  it('jump to a latency peak at once and decay towards 0 with τ = 10 s', () => {
    const clock = new FakeClock();
    const load = new EndpointLoad(clock);
    load.onEnd(10, true);
    load.onEnd(100, true);
    expect(load.latencyEstimateMs(clock.now())).toBe(100);
    clock.advance(LATENCY_DECAY_MS);
    expect(load.latencyEstimateMs(clock.now())).toBeCloseTo(100 / Math.E, 6);
  });

  it('blend a lower sample in by the time since the last one', () => {
    const clock = new FakeClock();
    const load = new EndpointLoad(clock);
    load.onEnd(100, true);
    clock.advance(LATENCY_DECAY_MS);
    load.onEnd(10, true);
    const decay = Math.exp(-1);
    expect(load.latencyEstimateMs(clock.now())).toBeCloseTo(100 * decay + 10 * (1 - decay), 6);
  });

  it('never let a fast failure lower the estimate', () => {
    const clock = new FakeClock();
    const load = new EndpointLoad(clock);
    load.onEnd(80, true);
    load.onEnd(1, false);
    expect(load.latencyEstimateMs(clock.now())).toBe(80);
  });

  it('charge an unmeasured endpoint nothing while idle and a penalty while busy', () => {
    const load = new EndpointLoad(new FakeClock());
    expect(load.peakEwmaCost(0)).toBe(0);
    load.onStart();
    expect(load.peakEwmaCost(0)).toBe(UNMEASURED_BUSY_COST);
  });
});

describe('peak EWMA', () => {
  it('is enabled as the default balancer for policies that name none', () => {
    expect(balancer(undefined, [endpoint(1)], { defaultBalancer: 'peak_ewma' }).name).toBe('peak_ewma');
    expect(balancer({ simple: 'ROUND_ROBIN' }, [endpoint(1)], { defaultBalancer: 'peak_ewma' }).name).toBe(
      'round_robin',
    );
  });

  it('moves traffic away from a slow endpoint that least request cannot tell apart', () => {
    const latency = (address: string) => (address === '10.0.0.1' ? 100 : 10);
    const endpoints = [endpoint(1), endpoint(2), endpoint(3)];
    const ewmaClock = new FakeClock();
    const ewma = runSequential(
      balancer(undefined, endpoints, { clock: ewmaClock, defaultBalancer: 'peak_ewma' }),
      ewmaClock,
      3000,
      latency,
    );
    expect(ewma.get('10.0.0.1') ?? 0).toBeLessThan(3000 * 0.02);
    // Sequential requests leave least request nothing to compare: a third each (±5σ).
    const lrClock = new FakeClock();
    const leastRequest = runSequential(
      balancer(LEAST_REQUEST, endpoints, { clock: lrClock }),
      lrClock,
      3000,
      latency,
    );
    expect(Math.abs((leastRequest.get('10.0.0.1') ?? 0) - 1000)).toBeLessThan(fiveSigma(3000, 1 / 3));
  });

  it('brings traffic back to a recovered endpoint as its estimate decays', () => {
    const clock = new FakeClock();
    const lb = balancer(undefined, [endpoint(1), endpoint(2), endpoint(3)], {
      clock,
      defaultBalancer: 'peak_ewma',
    });
    runSequential(lb, clock, 2000, (address) => (address === '10.0.0.1' ? 100 : 10));
    const shares = [1, 2, 3].map(() => runSequential(lb, clock, 2000, () => 10).get('10.0.0.1') ?? 0);
    expect(shares[0]).toBeLessThan(shares[1] ?? 0);
    expect(shares[1]).toBeLessThan(shares[2] ?? 0);
    expect(shares[2]).toBeGreaterThan(2000 * 0.05);
  });

  it('probes a new, unmeasured endpoint one request at a time', () => {
    const clock = new FakeClock();
    const lb = balancer(undefined, [endpoint(1), endpoint(2)], { clock, defaultBalancer: 'peak_ewma' });
    runSequential(lb, clock, 100, () => 10);
    lb.update([endpoint(1), endpoint(2), endpoint(3)]);
    const held = Array.from({ length: 60 }, () => {
      const picked = mustPick(lb);
      picked.load.onStart();
      return picked.endpoint.address;
    });
    expect(held.filter((address) => address === '10.0.0.3')).toHaveLength(1);
  });
});
