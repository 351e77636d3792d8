/**
 * Locality-aware balancing as Istio configures Envoy: priorities relative to the caller's
 * locality (failover only with outlier detection), `failover` and `failoverPriority`,
 * `distribute` weights, and Envoy's priority load with overprovisioning factor 1.4. Unhealthy
 * endpoints are passed in `all` but not in `healthy`, as the outlier detector would.
 */
import { describe, expect, it } from 'vitest';
import { unsupportedBalancingFields } from '../src/balancing/balancer-name.ts';
import {
  createClusterLoadBalancer,
  createLoadBalancer,
  type LoadBalancerDeps,
} from '../src/balancing/cluster-load-balancer.ts';
import { hashString } from '../src/balancing/hash-function.ts';
import type { LoadBalancer, LoadBalancerSettings } from '../src/balancing/load-balancer.ts';
import { localityMatches, localityPriority } from '../src/balancing/locality-match.ts';
import { effectiveLocalityWeight, priorityHealth, priorityLoads } from '../src/balancing/priority-load.ts';
import type { ClusterEndpoint } from '../src/config/compile/cluster.ts';
import { compile, formatConfigIssue, parseConfigObjects, type RegisteredWorkload } from '../src/index.ts';
import { seededRandom } from '../src/randomness/random.ts';
import type { Locality } from '../src/registry/workload.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function endpoint(name: string, locality: string, labels: Record<string, string> = {}): ClusterEndpoint {
  const [region, zone, subzone] = locality.split('/');
  return {
    address: name,
    port: 8080,
    labels,
    locality: { region, zone, ...(subzone === undefined ? {} : { subzone }) },
    weight: 1,
    origin: 'test',
  };
}

const SOURCE: Locality = { region: 'us-east', zone: 'a' };
const A1 = endpoint('a1', 'us-east/a');
const A2 = endpoint('a2', 'us-east/a');
const B1 = endpoint('b1', 'us-east/b');
const B2 = endpoint('b2', 'us-east/b');
const W1 = endpoint('w1', 'us-west/c');
const W2 = endpoint('w2', 'us-west/c');
const E1 = endpoint('e1', 'eu-west/d');
const P1 = endpoint('p1', 'ap-south/e');
const ALL = [A1, A2, B1, B2, W1, W2];

function balancer(
  settings: LoadBalancerSettings | undefined,
  deps: Partial<LoadBalancerDeps> = {},
): LoadBalancer {
  return createLoadBalancer(settings, {
    random: seededRandom(17),
    clock: new FakeClock(),
    sourceLocality: SOURCE,
    ...deps,
  });
}

function shares(lb: LoadBalancer, picks = 10_000): Map<string, number> {
  const counts = new Map<string, number>();
  const picker = lb.picker();
  for (let index = 0; index < picks; index++) {
    const address = picker.pick()?.endpoint.address ?? 'none';
    counts.set(address, (counts.get(address) ?? 0) + 1);
  }
  return counts;
}

function sum(counts: Map<string, number>, ...addresses: string[]): number {
  return addresses.reduce((total, address) => total + (counts.get(address) ?? 0), 0);
}

function fiveSigma(trials: number, probability: number): number {
  return 5 * Math.sqrt(trials * probability * (1 - probability));
}

describe('locality matching (Istio semantics)', () => {
  it('matches region[/zone[/subzone]] patterns with * and missing parts as wildcards', () => {
    const locality = { region: 'us-east', zone: 'a', subzone: 'rack1' };
    expect(localityMatches(locality, '*')).toBe(true);
    expect(localityMatches(locality, 'us-east')).toBe(true);
    expect(localityMatches(locality, 'us-east/*')).toBe(true);
    expect(localityMatches(locality, 'us-east/a/rack1')).toBe(true);
    expect(localityMatches(locality, 'us-east/b/*')).toBe(false);
    expect(localityMatches(locality, 'us-west/*')).toBe(false);
    expect(localityMatches(undefined, 'us-east')).toBe(false);
  });

  it('ranks endpoints: same subzone 0, same zone 1, same region 2, elsewhere 3', () => {
    const source = { region: 'r', zone: 'z', subzone: 's' };
    expect(localityPriority(source, { region: 'r', zone: 'z', subzone: 's' })).toBe(0);
    expect(localityPriority(source, { region: 'r', zone: 'z', subzone: 't' })).toBe(1);
    expect(localityPriority(source, { region: 'r', zone: 'y' })).toBe(2);
    expect(localityPriority(source, { region: 'q', zone: 'z', subzone: 's' })).toBe(3);
  });
});

describe('priority load (Envoy, overprovisioning 1.4)', () => {
  it('keeps all traffic on priority 0 until fewer than ~71.4% of it is healthy', () => {
    expect(
      priorityLoads([
        { healthy: 100, total: 100 },
        { healthy: 10, total: 10 },
      ]),
    ).toEqual([100, 0]);
    expect(
      priorityLoads([
        { healthy: 72, total: 100 },
        { healthy: 10, total: 10 },
      ]),
    ).toEqual([100, 0]);
    expect(
      priorityLoads([
        { healthy: 71, total: 100 },
        { healthy: 10, total: 10 },
      ]),
    ).toEqual([99, 1]);
  });

  it('spills the rest over to the next priorities in order (Envoy’s documented table)', () => {
    const healthyP1 = { healthy: 10, total: 10 };
    expect(priorityLoads([{ healthy: 50, total: 100 }, healthyP1])).toEqual([70, 30]);
    expect(priorityLoads([{ healthy: 25, total: 100 }, healthyP1])).toEqual([35, 65]);
    expect(priorityLoads([{ healthy: 0, total: 100 }, healthyP1])).toEqual([0, 100]);
    expect(priorityLoads([{ healthy: 1, total: 5 }, { healthy: 1, total: 5 }, healthyP1])).toEqual([
      28, 28, 44,
    ]);
  });

  it('scales load up when the priorities together are short of healthy endpoints', () => {
    // Health 28 + 28 = 56 < 100: each priority gets 28/56 of the traffic.
    expect(
      priorityLoads([
        { healthy: 1, total: 5 },
        { healthy: 1, total: 5 },
      ]),
    ).toEqual([50, 50]);
    expect(priorityHealth({ healthy: 1, total: 5 })).toBe(28);
  });

  it('weights a locality by min(1, 1.4 × its healthy fraction)', () => {
    expect(effectiveLocalityWeight(80, { healthy: 1, total: 2 })).toBeCloseTo(56, 10);
    expect(effectiveLocalityWeight(80, { healthy: 3, total: 4 })).toBe(80);
  });
});

describe('locality failover', () => {
  const RANDOM: LoadBalancerSettings = { simple: 'RANDOM' };

  it('sends everything to the caller’s zone while it is healthy', () => {
    const lb = balancer(RANDOM, { enableFailover: true });
    lb.update(ALL);
    const counts = shares(lb);
    expect(sum(counts, 'a1', 'a2')).toBe(10_000);
  });

  it('spills 30% to the same region when half the zone is unhealthy (70 = 50% × 1.4)', () => {
    const lb = balancer(RANDOM, { enableFailover: true });
    lb.update([A2, B1, B2, W1, W2], ALL);
    const counts = shares(lb);
    expect(Math.abs(sum(counts, 'a2') - 7000)).toBeLessThan(fiveSigma(10_000, 0.7));
    expect(sum(counts, 'b1', 'b2')).toBe(10_000 - sum(counts, 'a2'));
  });

  it('goes to another region only when the caller’s region is gone', () => {
    const lb = balancer(RANDOM, { enableFailover: true });
    lb.update([W1, W2], ALL);
    expect(sum(shares(lb), 'w1', 'w2')).toBe(10_000);
  });

  it('applies no locality priorities without outlier detection (Istio’s enableFailover)', () => {
    const lb = balancer(RANDOM, { enableFailover: false });
    lb.update(ALL);
    const counts = shares(lb);
    for (const address of ['a1', 'a2', 'b1', 'b2', 'w1', 'w2']) {
      expect(Math.abs((counts.get(address) ?? 0) - 10_000 / 6)).toBeLessThan(fiveSigma(10_000, 1 / 6));
    }
  });

  it('prefers the region `failover` names over other regions', () => {
    const settings: LoadBalancerSettings = {
      simple: 'RANDOM',
      localityLbSetting: { failover: [{ from: 'us-east', to: 'eu-west' }] },
    };
    const lb = balancer(settings, { enableFailover: true });
    lb.update([E1, P1], [A1, B1, E1, P1]);
    expect(sum(shares(lb), 'e1')).toBe(10_000);
    lb.update([P1], [A1, B1, E1, P1]);
    expect(sum(shares(lb), 'p1')).toBe(10_000);
  });

  it('orders by failoverPriority labels: the first label that differs decides', () => {
    const gold = endpoint('gold', 'us-west/c', { tier: 'gold', network: 'n1' });
    const sameNetwork = endpoint('same-network', 'us-west/c', { tier: 'silver', network: 'n1' });
    const other = endpoint('other', 'us-east/a', { tier: 'silver', network: 'n2' });
    const settings: LoadBalancerSettings = {
      simple: 'RANDOM',
      localityLbSetting: { failoverPriority: ['network', 'tier'] },
    };
    const lb = balancer(settings, { enableFailover: true, sourceLabels: { network: 'n1', tier: 'gold' } });
    const all = [gold, sameNetwork, other];
    lb.update(all);
    expect(sum(shares(lb), 'gold')).toBe(10_000);
    lb.update([sameNetwork, other], all);
    // Labels alone decide (no `failover`): the caller's own zone (`other`) comes last.
    expect(sum(shares(lb), 'same-network')).toBe(10_000);
  });

  it('compares failoverPriority `label=value` with the value given', () => {
    const silver = endpoint('silver', 'us-east/a', { tier: 'silver' });
    const gold = endpoint('gold', 'us-east/a', { tier: 'gold' });
    const settings: LoadBalancerSettings = {
      simple: 'RANDOM',
      localityLbSetting: { failoverPriority: ['tier=silver'] },
    };
    const lb = balancer(settings, { enableFailover: true, sourceLabels: { tier: 'gold' } });
    lb.update([silver, gold]);
    expect(sum(shares(lb), 'silver')).toBe(10_000);
  });

  it('is switched off by enabled: false, and by the mesh setting', () => {
    const off = balancer(
      { simple: 'RANDOM', localityLbSetting: { enabled: false } },
      { enableFailover: true },
    );
    off.update(ALL);
    expect(sum(shares(off), 'w1', 'w2')).toBeGreaterThan(0);
    const meshOff = balancer(RANDOM, { enableFailover: true, meshLocalityLbSetting: { enabled: false } });
    meshOff.update(ALL);
    expect(sum(shares(meshOff), 'w1', 'w2')).toBeGreaterThan(0);
  });

  it('keeps a hashed key on one endpoint across priorities', () => {
    const lb = balancer({ consistentHash: { httpHeaderName: 'x-user' } }, { enableFailover: true });
    lb.update([A2, B1, B2, W1, W2], ALL);
    const picker = lb.picker();
    for (let key = 0; key < 200; key++) {
      const hash = hashString(`user-${key}`);
      const first = picker.pick({ hash })?.key;
      expect(first).toBeDefined();
      expect(picker.pick({ hash })?.key).toBe(first);
    }
  });
});

describe('locality distribute', () => {
  const DISTRIBUTE: LoadBalancerSettings = {
    simple: 'ROUND_ROBIN',
    localityLbSetting: {
      distribute: [{ from: 'us-east/a/*', to: { 'us-east/a/*': 80, 'us-east/b/*': 20 } }],
    },
  };

  it('splits traffic by the `to` weights and drops unlisted localities, without outlier detection', () => {
    const lb = balancer(DISTRIBUTE);
    lb.update(ALL);
    const counts = shares(lb);
    expect(Math.abs(sum(counts, 'a1', 'a2') - 8000)).toBeLessThan(fiveSigma(10_000, 0.8));
    expect(sum(counts, 'b1', 'b2')).toBe(10_000 - sum(counts, 'a1', 'a2'));
  });

  it('shrinks a half-healthy locality’s weight by 1.4 × 50%', () => {
    const lb = balancer(DISTRIBUTE);
    lb.update([A2, B1, B2, W1, W2], ALL);
    const expected = 56 / 76;
    expect(Math.abs(sum(shares(lb), 'a2') - 10_000 * expected)).toBeLessThan(fiveSigma(10_000, expected));
  });

  it('applies only the rule whose `from` matches the caller', () => {
    const lb = balancer(DISTRIBUTE, { sourceLocality: { region: 'us-west', zone: 'c' } });
    lb.update(ALL);
    const counts = shares(lb);
    for (const address of ['a1', 'b1', 'w1']) expect(counts.get(address) ?? 0).toBeGreaterThan(1000);
  });
});

describe('zone-aware balancing', () => {
  it('is reported as unsupported and applies no locality priorities', () => {
    const settings: LoadBalancerSettings = { simple: 'RANDOM', zoneAwareLbSetting: { enabled: true } };
    expect(unsupportedBalancingFields(settings)).toEqual(['loadBalancer.zoneAwareLbSetting']);
    expect(unsupportedBalancingFields({ simple: 'RANDOM' })).toEqual([]);
    const lb = balancer(settings, { enableFailover: true });
    lb.update(ALL);
    expect(sum(shares(lb), 'w1', 'w2')).toBeGreaterThan(0);
  });
});

describe('compiled clusters', () => {
  const workloads: RegisteredWorkload[] = [
    ['reviews-a', 'us-east', 'a'],
    ['reviews-w', 'us-west', 'c'],
  ].map(([name = '', region, zone], index) => ({
    name,
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'reviews',
    labels: { app: 'reviews' },
    address: `127.0.0.${index + 1}`,
    ports: { 9080: 19080 },
    locality: { region, zone },
  }));

  function clusterBalancer(trafficPolicy: object): LoadBalancer {
    const { resources, issues } = parseConfigObjects([
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'reviews', namespace: 'default' },
        spec: { host: 'reviews', trafficPolicy },
      },
    ]);
    expect(issues.filter((issue) => issue.severity === 'error').map(formatConfigIssue)).toEqual([]);
    const host = 'reviews.default.svc.cluster.local';
    const cluster = compile(resources, { workloads })
      .forWorkload({ namespace: 'default', labels: { app: 'productpage' } })
      .cluster({ clusterName: `outbound|9080||${host}`, host, port: 9080, weight: 1 });
    if (cluster === undefined) throw new Error('no cluster');
    return createClusterLoadBalancer(cluster, {
      random: seededRandom(5),
      clock: new FakeClock(),
      sourceLocality: SOURCE,
    });
  }

  it('fails over by locality when the DestinationRule has outlier detection', () => {
    const lb = clusterBalancer({
      loadBalancer: { simple: 'RANDOM' },
      outlierDetection: { consecutive5xxErrors: 5 },
    });
    expect(sum(shares(lb), '127.0.0.1')).toBe(10_000);
  });

  it('balances over every locality when it has none', () => {
    const lb = clusterBalancer({ loadBalancer: { simple: 'RANDOM' } });
    expect(sum(shares(lb), '127.0.0.2')).toBeGreaterThan(4000);
  });
});
