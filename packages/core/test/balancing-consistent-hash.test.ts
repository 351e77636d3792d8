/**
 * Consistent hashing: Weft's 53-bit string hash, the request hasher (header, cookie with
 * generation, query parameter, source IP), ring hash and Maglev. Disruption bounds are derived
 * from each algorithm's construction, with 5σ of sampling error over the keys used.
 */
import { describe, expect, it } from 'vitest';
import { createLoadBalancer } from '../src/balancing/cluster-load-balancer.ts';
import { EndpointLoad } from '../src/balancing/endpoint-load.ts';
import { HASH_SPACE, hashString } from '../src/balancing/hash-function.ts';
import type { LbEndpoint, LoadBalancer, LoadBalancerSettings } from '../src/balancing/load-balancer.ts';
import {
  buildMaglevTable,
  DEFAULT_MAGLEV_TABLE_SIZE,
  maglevTableSizeProblem,
} from '../src/balancing/maglev.ts';
import {
  createRequestHasher,
  formatSetCookie,
  type GeneratedCookie,
  type HashRequestView,
} from '../src/balancing/request-hash.ts';
import { buildHashRing } from '../src/balancing/ring-hash.ts';
import type { ClusterEndpoint } from '../src/config/compile/cluster.ts';
import { ErrorCodes, WeftError } from '../src/errors/weft-error.ts';
import { seededRandom } from '../src/randomness/random.ts';
import { FakeClock } from '../src/time/fake-clock.ts';

function endpoint(n: number, weight = 1): ClusterEndpoint {
  return { address: `10.0.0.${n}`, port: 8080, labels: {}, weight, origin: 'test' };
}

function lbEndpoint(n: number, weight = 1): LbEndpoint {
  return {
    endpoint: endpoint(n, weight),
    key: `10.0.0.${n}:8080`,
    weight,
    effectiveWeight: weight,
    load: new EndpointLoad(new FakeClock()),
  };
}

const RING: LoadBalancerSettings = { consistentHash: { httpHeaderName: 'x-user' } };
const MAGLEV: LoadBalancerSettings = {
  consistentHash: { httpHeaderName: 'x-user', maglev: { tableSize: 65_537 } },
};
const KEYS = 20_000;
const keyHashes = Array.from({ length: KEYS }, (_, index) => hashString(`user-${index}`));

function balancer(
  settings: LoadBalancerSettings,
  endpoints: readonly ClusterEndpoint[],
  seed = 3,
): LoadBalancer {
  const lb = createLoadBalancer(settings, { random: seededRandom(seed), clock: new FakeClock() });
  lb.update(endpoints);
  return lb;
}

function assignments(lb: LoadBalancer): string[] {
  const picker = lb.picker();
  return keyHashes.map((hash) => picker.pick({ hash })?.key ?? 'none');
}

function request(values: {
  header?: string;
  cookie?: string;
  query?: string;
  sourceIp?: string;
}): HashRequestView & {
  readonly cookies: GeneratedCookie[];
} {
  const cookies: GeneratedCookie[] = [];
  return {
    cookies,
    header: (name) => (name === 'x-user' ? values.header : undefined),
    cookie: (name) => (name === 'session' ? values.cookie : undefined),
    query: (name) => (name === 'user' ? values.query : undefined),
    sourceIp: values.sourceIp,
    setCookie: (cookie) => cookies.push(cookie),
  };
}

describe('hashString', () => {
  it('is deterministic, seeded, and an exact integer below 2^53', () => {
    expect(hashString('user-1')).toBe(hashString('user-1'));
    expect(hashString('user-1', 1)).not.toBe(hashString('user-1'));
    expect(hashString('user-1')).not.toBe(hashString('user-2'));
    for (const hash of keyHashes.slice(0, 1000)) {
      expect(Number.isSafeInteger(hash) && hash >= 0 && hash < HASH_SPACE).toBe(true);
    }
  });

  it('spreads similar keys evenly over both low and high bits (χ² within 5σ)', () => {
    const buckets = 64;
    for (const bucketOf of [(hash: number) => hash % buckets, (hash: number) => Math.floor(hash / 2 ** 47)]) {
      const counts = new Array<number>(buckets).fill(0);
      for (const hash of keyHashes) counts[bucketOf(hash)] = (counts[bucketOf(hash)] ?? 0) + 1;
      const expected = KEYS / buckets;
      const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
      // χ² with 63 degrees of freedom: mean 63, σ = √126.
      expect(chiSquare).toBeLessThan(63 + 5 * Math.sqrt(126));
    }
  });
});

describe('request hashing', () => {
  it('hashes the configured header, query parameter or source IP, and nothing when absent', () => {
    const random = seededRandom(1);
    const byHeader = createRequestHasher({ httpHeaderName: 'X-User' }, random);
    expect(byHeader.hash(request({ header: 'alice' }))).toBe(hashString('alice'));
    expect(byHeader.hash(request({ query: 'alice' }))).toBeUndefined();
    const byQuery = createRequestHasher({ httpQueryParameterName: 'user' }, random);
    expect(byQuery.hash(request({ query: 'bob' }))).toBe(hashString('bob'));
    const bySource = createRequestHasher({ useSourceIp: true }, random);
    expect(bySource.hash(request({ sourceIp: '10.1.2.3' }))).toBe(hashString('10.1.2.3'));
    expect(bySource.hash(request({}))).toBeUndefined();
  });

  it('hashes an existing cookie and generates none when it is present', () => {
    const hasher = createRequestHasher({ httpCookie: { name: 'session', ttl: 3_600_000 } }, seededRandom(1));
    const view = request({ cookie: 'abc' });
    expect(hasher.hash(view)).toBe(hashString('abc'));
    expect(view.cookies).toEqual([]);
  });

  it('generates a missing cookie when a ttl is set, and hashes the request on it', () => {
    const hasher = createRequestHasher(
      {
        httpCookie: {
          name: 'session',
          path: '/api',
          ttl: 3_600_000,
          attributes: [{ name: 'SameSite', value: 'Lax' }],
        },
      },
      seededRandom(1),
    );
    const view = request({});
    const hash = hasher.hash(view);
    expect(view.cookies).toHaveLength(1);
    const [cookie] = view.cookies;
    expect(cookie?.value).toMatch(/^[0-9a-f]{16}$/);
    expect(hash).toBe(hashString(cookie?.value ?? ''));
    expect(cookie && formatSetCookie(cookie)).toBe(
      `session=${cookie?.value}; Max-Age=3600; Path=/api; HttpOnly; SameSite=Lax`,
    );
    // The client's next request carries the cookie and so hashes the same way.
    expect(hasher.hash(request({ cookie: cookie?.value ?? '' }))).toBe(hash);
  });

  it('generates a session cookie for ttl 0 and nothing without a ttl', () => {
    const session = request({});
    createRequestHasher({ httpCookie: { name: 'session', ttl: 0 } }, seededRandom(1)).hash(session);
    expect(session.cookies[0]?.maxAgeSeconds).toBeUndefined();
    const noTtl = request({});
    expect(
      createRequestHasher({ httpCookie: { name: 'session' } }, seededRandom(1)).hash(noTtl),
    ).toBeUndefined();
    expect(noTtl.cookies).toEqual([]);
  });

  it('is exposed by consistent-hash balancers only', () => {
    expect(balancer(RING, [endpoint(1)]).hasher).toBeDefined();
    expect(balancer({ simple: 'RANDOM' }, [endpoint(1)]).hasher).toBeUndefined();
  });
});

describe.each([
  ['ring hash', RING],
  ['maglev', MAGLEV],
])('%s', (_name, settings) => {
  const ten = Array.from({ length: 10 }, (_, index) => endpoint(index + 1));

  it('sends the same key to the same endpoint, whatever order the endpoints come in', () => {
    const first = assignments(balancer(settings, ten));
    expect(assignments(balancer(settings, ten))).toEqual(first);
    expect(assignments(balancer(settings, [...ten].reverse(), 99))).toEqual(first);
  });

  it('spreads keys over every endpoint', () => {
    const counts = new Map<string, number>();
    for (const key of assignments(balancer(settings, ten))) counts.set(key, (counts.get(key) ?? 0) + 1);
    expect(counts.size).toBe(10);
    // Ring: ~103 points per endpoint give each a share of 0.1 ± 0.01 (1σ); Maglev is near exact.
    for (const count of counts.values()) expect(Math.abs(count / KEYS - 0.1)).toBeLessThan(0.05);
  });

  it('picks a random endpoint for a request without a hash', () => {
    const picker = balancer(settings, ten).picker();
    const seen = new Set(Array.from({ length: 500 }, () => picker.pick()?.key));
    expect(seen.size).toBe(10);
  });
});

describe('ring hash', () => {
  it('moves only the removed endpoint’s keys plus those its replacement points claim', () => {
    const ten = Array.from({ length: 10 }, (_, index) => lbEndpoint(index + 1));
    const before = buildHashRing(ten, 1024);
    const after = buildHashRing(ten.slice(0, 9), 1024);
    const lb = balancer(
      RING,
      ten.map((entry) => entry.endpoint),
    );
    const initial = assignments(lb);
    lb.update(ten.slice(0, 9).map((entry) => entry.endpoint));
    const moved = assignments(lb).map((key, index) => key !== initial[index]);
    const removedKey = '10.0.0.10:8080';
    const fromRemoved = initial.filter((key) => key === removedKey).length;
    const movedFromOthers = moved.filter((isMoved, index) => isMoved && initial[index] !== removedKey).length;
    // Every key of the removed endpoint moves…
    expect(moved.filter((isMoved, index) => isMoved && initial[index] === removedKey).length).toBe(
      fromRemoved,
    );
    // …and others move only onto the points added to keep the ring at its minimum size (Envoy's
    // sizing: 103 → 114 points each). Those points own arcs summing to ~added/size of the ring,
    // with σ ≈ √added/size (arcs are ~exponential), plus 5σ of sampling.
    const kept = before.points.length - Math.round(before.points.length / 10);
    const added = after.points.length - kept;
    const bound =
      added / after.points.length + (5 * Math.sqrt(added)) / after.points.length + 5 * Math.sqrt(0.25 / KEYS);
    expect(movedFromOthers / KEYS).toBeLessThan(bound);
    expect((fromRemoved + movedFromOthers) / KEYS).toBeLessThan(0.1 + 0.05 + bound);
  });

  it('honours weights and the minimum ring size', () => {
    const ring = buildHashRing([lbEndpoint(1, 1), lbEndpoint(2, 3)], 1000);
    expect(ring.points.length).toBeGreaterThanOrEqual(1000);
    const heavy = ring.owners.filter((owner) => ring.endpoints[owner]?.key === '10.0.0.2:8080').length;
    expect(heavy / ring.points.length).toBeCloseTo(0.75, 2);
  });
});

describe('maglev', () => {
  it('moves close to 1/N of keys when one of N endpoints is removed', () => {
    const ten = Array.from({ length: 10 }, (_, index) => endpoint(index + 1));
    const lb = balancer(MAGLEV, ten);
    const initial = assignments(lb);
    lb.update(ten.slice(0, 9));
    const moved = assignments(lb).map((key, index) => key !== initial[index]);
    const movedFromOthers = moved.filter(
      (isMoved, index) => isMoved && initial[index] !== '10.0.0.10:8080',
    ).length;
    // Maglev's table of M ≫ N slots leaves almost every other slot with its owner (the paper's
    // "minimal disruption"); 2% allows for that plus 5σ of sampling, a fresh table would move 90%.
    expect(movedFromOthers / KEYS).toBeLessThan(0.02);
    const movedShare = moved.filter(Boolean).length / KEYS;
    expect(Math.abs(movedShare - 0.1)).toBeLessThan(0.02 + 5 * Math.sqrt((0.1 * 0.9) / KEYS));
  });

  it('fills every slot, in proportion to weights', () => {
    const table = buildMaglevTable([lbEndpoint(1, 1), lbEndpoint(2, 2), lbEndpoint(3, 0)], 10_007);
    expect(table.slots.every((slot) => slot >= 0)).toBe(true);
    const share =
      table.slots.filter((slot) => table.endpoints[slot]?.key === '10.0.0.2:8080').length / 10_007;
    expect(share).toBeCloseTo(2 / 3, 2);
    expect(table.endpoints.map((entry) => entry.key)).not.toContain('10.0.0.3:8080');
  });

  it('accepts only prime table sizes below 5000011, defaulting to 65537', () => {
    expect(maglevTableSizeProblem(65_537)).toBeUndefined();
    expect(maglevTableSizeProblem(7)).toBeUndefined();
    expect(maglevTableSizeProblem(65_536)).toMatch(/prime/);
    expect(maglevTableSizeProblem(5_000_011)).toMatch(/below 5000011/);
    expect(maglevTableSizeProblem(1)).toMatch(/prime/);
    expect(DEFAULT_MAGLEV_TABLE_SIZE).toBe(65_537);
    const create = (tableSize: number) =>
      createLoadBalancer(
        { consistentHash: { useSourceIp: true, maglev: { tableSize } } },
        { random: seededRandom(1), clock: new FakeClock() },
      );
    expect(() => create(65_536)).toThrow(WeftError);
    expect(() => create(65_536)).toThrow(expect.objectContaining({ code: ErrorCodes.configValidation }));
    expect(create(0).name).toBe('maglev');
  });
});
