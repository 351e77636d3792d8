/**
 * Round robin (equal weights: rotation; unequal: Envoy's EDF schedule) and random, through
 * createLoadBalancer. Seeded randomness and a fake clock; statistical bounds are ±5σ of the
 * binomial count for the sample size, so a correct balancer fails them about once in 1.7 million.
 */
import { describe, expect, it } from 'vitest';
import { createLoadBalancer } from '../src/balancing/cluster-load-balancer.ts';
import type { LoadBalancer, LoadBalancerSettings, Picker } from '../src/balancing/load-balancer.ts';
import type { ClusterEndpoint } from '../src/config/compile/cluster.ts';
import { seededRandom } from '../src/randomness/random.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function endpoint(n: number, weight = 1): ClusterEndpoint {
  return { address: `10.0.0.${n}`, port: 8080, labels: {}, weight, origin: 'test' };
}

function balancer(
  settings: LoadBalancerSettings | undefined,
  endpoints: readonly ClusterEndpoint[],
  seed = 7,
) {
  const lb = createLoadBalancer(settings, { random: seededRandom(seed), clock: new FakeClock() });
  lb.update(endpoints);
  return lb;
}

function sequence(picker: Picker, picks: number): string[] {
  return Array.from({ length: picks }, () => picker.pick()?.endpoint.address ?? 'none');
}

function tally(addresses: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const address of addresses) counts.set(address, (counts.get(address) ?? 0) + 1);
  return counts;
}

/** Five standard deviations of a binomial count. */
function fiveSigma(trials: number, probability: number): number {
  return 5 * Math.sqrt(trials * probability * (1 - probability));
}

const ROUND_ROBIN: LoadBalancerSettings = { simple: 'ROUND_ROBIN' };
const RANDOM: LoadBalancerSettings = { simple: 'RANDOM' };

describe('round robin', () => {
  it('visits every equal-weight endpoint once per cycle, in a fixed rotation', () => {
    const picks = sequence(balancer(ROUND_ROBIN, [endpoint(1), endpoint(2), endpoint(3)]).picker(), 300);
    for (let start = 0; start + 3 <= picks.length; start++) {
      expect(new Set(picks.slice(start, start + 3)).size).toBe(3);
    }
  });

  it('starts the rotation at a random endpoint, so callers are not in lockstep', () => {
    const endpoints = [endpoint(1), endpoint(2), endpoint(3), endpoint(4)];
    const firsts = new Set(
      Array.from({ length: 40 }, (_, seed) => balancer(ROUND_ROBIN, endpoints, seed).picker().pick()?.key),
    );
    expect(firsts.size).toBe(4);
  });

  it('gives each endpoint exactly its weight in every run of Σweight consecutive picks', () => {
    const picks = sequence(
      balancer(ROUND_ROBIN, [endpoint(1, 1), endpoint(2, 2), endpoint(3, 5)]).picker(),
      800,
    );
    for (let start = 0; start + 8 <= picks.length; start++) {
      const window = tally(picks.slice(start, start + 8));
      expect([window.get('10.0.0.1'), window.get('10.0.0.2'), window.get('10.0.0.3')]).toEqual([1, 2, 5]);
    }
  });

  it('interleaves a heavy endpoint instead of sending it its whole share in a burst', () => {
    const picks = sequence(
      balancer(ROUND_ROBIN, [endpoint(1, 1), endpoint(2, 2), endpoint(3, 5)]).picker(),
      800,
    );
    let longestRun = 0;
    let run = 0;
    for (const [index, address] of picks.entries()) {
      run = index > 0 && picks[index - 1] === address ? run + 1 : 1;
      longestRun = Math.max(longestRun, run);
    }
    // EDF with weights 1:2:5 never serves the 5 more than 3 times running; a burst would be 5+.
    expect(longestRun).toBeLessThanOrEqual(3);
  });

  it('never picks an endpoint of weight 0 while others have weight', () => {
    const picks = sequence(
      balancer(ROUND_ROBIN, [endpoint(1, 0), endpoint(2, 1), endpoint(3, 2)]).picker(),
      300,
    );
    expect(tally(picks).get('10.0.0.1')).toBeUndefined();
  });
});

describe('random', () => {
  it('spreads equal-weight picks uniformly (±5σ over 10,000 picks)', () => {
    const picks = 10_000;
    const counts = tally(
      sequence(
        balancer(
          RANDOM,
          [1, 2, 3, 4].map((n) => endpoint(n)),
        ).picker(),
        picks,
      ),
    );
    for (const n of [1, 2, 3, 4]) {
      expect(Math.abs((counts.get(`10.0.0.${n}`) ?? 0) - picks / 4)).toBeLessThan(fiveSigma(picks, 1 / 4));
    }
  });

  it('follows endpoint weights (±5σ over 10,000 picks)', () => {
    const picks = 10_000;
    const lb = balancer(RANDOM, [endpoint(1, 1), endpoint(2, 2), endpoint(3, 3), endpoint(4, 4)]);
    const counts = tally(sequence(lb.picker(), picks));
    for (const n of [1, 2, 3, 4]) {
      const share = n / 10;
      expect(Math.abs((counts.get(`10.0.0.${n}`) ?? 0) - picks * share)).toBeLessThan(
        fiveSigma(picks, share),
      );
    }
  });

  it('draws from the injected Random: the same seed gives the same picks', () => {
    const endpoints = [1, 2, 3, 4, 5].map((n) => endpoint(n));
    const first = sequence(balancer(RANDOM, endpoints, 42).picker(), 50);
    expect(sequence(balancer(RANDOM, endpoints, 42).picker(), 50)).toEqual(first);
    expect(sequence(balancer(RANDOM, endpoints, 43).picker(), 50)).not.toEqual(first);
  });
});

describe('every built-in balancer', () => {
  const policies: Record<string, LoadBalancerSettings | undefined> = {
    default: undefined,
    ROUND_ROBIN,
    LEAST_REQUEST: { simple: 'LEAST_REQUEST' },
    RANDOM,
    ringHash: { consistentHash: { httpHeaderName: 'x-user' } },
    maglev: { consistentHash: { httpHeaderName: 'x-user', maglev: { tableSize: 65_537 } } },
  };

  for (const [name, settings] of Object.entries(policies)) {
    it(`${name}: picks nothing from an empty endpoint set`, () => {
      const lb: LoadBalancer = balancer(settings, []);
      expect(lb.picker().pick()).toBeUndefined();
      expect(lb.picker().pick({ hash: 12_345 })).toBeUndefined();
    });

    it(`${name}: picks the only endpoint of a one-endpoint set`, () => {
      const lb = balancer(settings, [endpoint(9)]);
      expect(new Set(sequence(lb.picker(), 20))).toEqual(new Set(['10.0.0.9']));
    });

    it(`${name}: picks nothing once every endpoint is gone`, () => {
      const lb = balancer(settings, [endpoint(1), endpoint(2)]);
      lb.update([]);
      expect(lb.picker().pick()).toBeUndefined();
    });
  }
});
