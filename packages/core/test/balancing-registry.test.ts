/**
 * The balancer registry and the LoadBalancer contract: policy → registered name, custom
 * balancers registered through the same call as the built-ins, immutable pickers, load records
 * shared across picker generations, and PASSTHROUGH.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LoadBalancerNames, loadBalancerName } from '../src/balancing/balancer-name.ts';
import { registeredLoadBalancers, registerLoadBalancer } from '../src/balancing/balancer-registry.ts';
import { registerBuiltinBalancers } from '../src/balancing/builtin-balancers.ts';
import { createLoadBalancer } from '../src/balancing/cluster-load-balancer.ts';
import { endpointKey } from '../src/balancing/endpoint-key.ts';
import type {
  LbEndpoint,
  LoadBalancerFactory,
  LoadBalancerSettings,
} from '../src/balancing/load-balancer.ts';
import type { ClusterEndpoint } from '../src/config/compile/cluster.ts';
import { ErrorCodes } from '../src/errors/weft-error.ts';
import { seededRandom } from '../src/randomness/random.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function endpoint(n: number): ClusterEndpoint {
  return { address: `10.0.0.${n}`, port: 8080, labels: {}, weight: 1, origin: 'test' };
}

const deps = () => ({ random: seededRandom(2), clock: new FakeClock() });

afterEach(() => registerBuiltinBalancers());

describe('policy names', () => {
  it('maps Istio’s simple policies and hash algorithms to registered names', () => {
    const cases: [LoadBalancerSettings | undefined, string][] = [
      [undefined, 'least_request'],
      [{}, 'least_request'],
      [{ simple: 'UNSPECIFIED' }, 'least_request'],
      [{ simple: 'ROUND_ROBIN' }, 'round_robin'],
      [{ simple: 'LEAST_REQUEST' }, 'least_request'],
      [{ simple: 'RANDOM' }, 'random'],
      [{ simple: 'PASSTHROUGH' }, 'passthrough'],
      [{ consistentHash: { useSourceIp: true } }, 'ring_hash'],
      [{ consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 64 } } }, 'ring_hash'],
      [{ consistentHash: { useSourceIp: true, maglev: { tableSize: 65_537 } } }, 'maglev'],
    ];
    for (const [settings, name] of cases) expect(loadBalancerName(settings)).toBe(name);
  });

  it('uses the default balancer only when the policy names none', () => {
    expect(loadBalancerName(undefined, 'peak_ewma')).toBe('peak_ewma');
    expect(loadBalancerName({ simple: 'UNSPECIFIED' }, 'peak_ewma')).toBe('peak_ewma');
    expect(loadBalancerName({ simple: 'RANDOM' }, 'peak_ewma')).toBe('random');
    expect(loadBalancerName({ consistentHash: { useSourceIp: true } }, 'peak_ewma')).toBe('ring_hash');
  });

  it('registers every built-in', () => {
    expect([...registeredLoadBalancers()].sort()).toEqual(
      expect.arrayContaining(Object.values(LoadBalancerNames)),
    );
  });
});

describe('the registry', () => {
  it('serves a custom balancer registered like the built-ins', () => {
    const seen: string[][] = [];
    const lastEndpoint: LoadBalancerFactory = {
      usesWarmup: false,
      create: () => (endpoints) => {
        seen.push(endpoints.map((entry) => entry.key));
        const last = endpoints[endpoints.length - 1];
        return { pick: () => last };
      },
    };
    registerLoadBalancer('last_endpoint', lastEndpoint);
    const lb = createLoadBalancer(undefined, { ...deps(), defaultBalancer: 'last_endpoint' });
    lb.update([endpoint(1), endpoint(2)]);
    expect(lb.name).toBe('last_endpoint');
    expect(lb.picker().pick()?.key).toBe('10.0.0.2:8080');
    expect(seen).toEqual([['10.0.0.1:8080', '10.0.0.2:8080']]);
  });

  it('lets a built-in be replaced, for balancers created afterwards', () => {
    registerLoadBalancer('round_robin', {
      usesWarmup: false,
      create: () => () => ({ pick: () => undefined }),
    });
    const lb = createLoadBalancer({ simple: 'ROUND_ROBIN' }, deps());
    lb.update([endpoint(1)]);
    expect(lb.picker().pick()).toBeUndefined();
  });

  it('rejects a name nobody registered, listing those that are', () => {
    expect(() => createLoadBalancer(undefined, { ...deps(), defaultBalancer: 'nope' })).toThrow(
      expect.objectContaining({
        code: ErrorCodes.configValidation,
        message: expect.stringContaining('registered: round_robin'),
      }),
    );
  });
});

describe('pickers and load records', () => {
  it('keep an old picker serving its own endpoint set after an update', () => {
    const lb = createLoadBalancer({ simple: 'ROUND_ROBIN' }, deps());
    lb.update([endpoint(1), endpoint(2)]);
    const old = lb.picker();
    lb.update([endpoint(3)]);
    const fromOld = new Set(Array.from({ length: 10 }, () => old.pick()?.endpoint.address));
    expect(fromOld).toEqual(new Set(['10.0.0.1', '10.0.0.2']));
    expect(lb.picker().pick()?.endpoint.address).toBe('10.0.0.3');
  });

  it('share one load record per address:port across picker generations', () => {
    const lb = createLoadBalancer({ simple: 'ROUND_ROBIN' }, deps());
    lb.update([endpoint(1)]);
    const before = lb.picker().pick() as LbEndpoint;
    before.load.onStart();
    lb.update([endpoint(1), endpoint(2)]);
    const after = Array.from({ length: 4 }, () => lb.picker().pick()).find(
      (picked) => picked?.key === before.key,
    );
    expect(after).not.toBe(before);
    expect(after?.load).toBe(before.load);
    expect(after?.load.active).toBe(1);
  });

  it('let a request in flight under an old picker steer the new one', () => {
    const lb = createLoadBalancer({ simple: 'LEAST_REQUEST' }, deps());
    lb.update([endpoint(1)]);
    lb.picker().pick()?.load.onStart();
    lb.update([endpoint(1), endpoint(2)]);
    const picks = new Set(Array.from({ length: 50 }, () => lb.picker().pick()?.key));
    expect(picks).toEqual(new Set(['10.0.0.2:8080']));
  });

  it('key endpoints by address:port, bracketing IPv6', () => {
    expect(endpointKey('10.0.0.1', 80)).toBe('10.0.0.1:80');
    expect(endpointKey('fd00::1', 80)).toBe('[fd00::1]:80');
  });

  it('give PASSTHROUGH a balancer named so, whose picker never picks', () => {
    const lb = createLoadBalancer({ simple: 'PASSTHROUGH' }, deps());
    lb.update([endpoint(1)]);
    expect(lb.name).toBe('passthrough');
    expect(lb.picker().pick()).toBeUndefined();
  });
});
