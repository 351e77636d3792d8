import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinDocuments, subsetsByVersion, virtualServiceRoutes } from '../../core/test/support/istio-yaml.ts';
import { ERROR_CODE_HEADER, RESPONSE_FLAGS_HEADER } from '../src/index.ts';
import { createScenario } from './support/scenario.ts';
import type { ServiceUpstreams, Upstream } from './support/upstream.ts';
import { workloadsOf } from './support/workloads.ts';

/** Subsets v1, v2 and v3 of reviews, and a VirtualService for reviews with these `http:` routes. */
const reviewsRoutes = (routes: string) =>
  joinDocuments(subsetsByVersion('reviews', ['v1', 'v2', 'v3']), virtualServiceRoutes('reviews', routes));

const scenario = createScenario('reviews');
afterEach(() => scenario.close());

describe('routing through the mesh dispatcher (real upstreams on 127.0.0.1)', () => {
  let reviews: ServiceUpstreams;
  beforeEach(async () => {
    reviews = await scenario.startVersions(['v1', 'v2', 'v3']);
  });

  const upstream = (version: string) => reviews.byVersion.get(version) as Upstream;

  it('routes jason to v2 by header and everyone else to v1, keeping the Host the caller used', async () => {
    const client = scenario.open(
      reviewsRoutes(`
- match: [{ headers: { end-user: { exact: jason } } }]
  route: [{ destination: { host: reviews, subset: v2 } }]
- route: [{ destination: { host: reviews, subset: v1 } }]
`),
      workloadsOf(reviews),
    );
    const jason = await client.get('http://reviews:9080/reviews/1', { 'end-user': 'jason' });
    const other = await client.get('http://reviews:9080/reviews/1');
    expect([jason.status, jason.body]).toEqual([200, 'reviews-v2']);
    expect([other.status, other.body]).toEqual([200, 'reviews-v1']);
    expect(upstream('v2').seen[0]?.headers.host).toBe('reviews:9080');
    expect(upstream('v2').seen[0]?.path).toBe('/reviews/1');
  });

  it('splits traffic by weight within statistical bounds (seeded)', async () => {
    const client = scenario.open(
      reviewsRoutes(`
- route:
  - { destination: { host: reviews, subset: v1 }, weight: 80 }
  - { destination: { host: reviews, subset: v3 }, weight: 20 }
`),
      workloadsOf(reviews),
    );
    const n = 400;
    for (let i = 0; i < n; i++) await client.get('http://reviews:9080/');
    const v3 = upstream('v3').seen.length;
    // Binomial(400, 0.2): mean 80, sd 8; ±5 sd never fails by chance, and the seed fixes it anyway.
    expect(v3).toBeGreaterThan(80 - 40);
    expect(v3).toBeLessThan(80 + 40);
    expect(upstream('v1').seen.length + v3).toBe(n);
    expect(upstream('v2').seen.length).toBe(0);
  });

  it('rewrites the prefix it matched and the authority, and applies header operations', async () => {
    const client = scenario.open(
      reviewsRoutes(`
- match: [{ uri: { prefix: /api/v1/ } }]
  rewrite: { uri: /v1/, authority: reviews.internal }
  headers:
    request: { set: { x-route: legacy }, remove: [x-drop] }
    response: { add: { x-served-by: mesh } }
  route:
  - destination: { host: reviews, subset: v1 }
    headers: { request: { add: { x-subset: v1 } } }
`),
      workloadsOf(reviews),
    );
    const response = await client.get('http://reviews:9080/api/v1/items?q=1', {
      'x-drop': 'yes',
      'x-route': 'caller',
    });
    const seen = upstream('v1').seen[0];
    expect(seen?.path).toBe('/v1/items?q=1');
    expect(seen?.headers.host).toBe('reviews.internal');
    expect(seen?.headers['x-route']).toBe('legacy');
    expect(seen?.headers['x-subset']).toBe('v1');
    expect(seen?.headers['x-drop']).toBeUndefined();
    expect(response.headers['x-served-by']).toBe('mesh');
  });

  it('rewrites with a regex and capture groups', async () => {
    const client = scenario.open(
      reviewsRoutes(`
- match: [{ uri: { prefix: /service/ } }]
  rewrite: { uriRegexRewrite: { match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' } }
  route: [{ destination: { host: reviews, subset: v1 } }]
`),
      workloadsOf(reviews),
    );
    await client.get('http://reviews:9080/service/foo/v1/api');
    expect(upstream('v1').seen[0]?.path).toBe('/v1/api/instance/foo');
  });

  it('answers redirects and direct responses without calling any upstream', async () => {
    const client = scenario.open(
      reviewsRoutes(`
- match: [{ uri: { prefix: /old/ } }]
  redirect: { prefixRewrite: /new/, redirectCode: 308 }
- match: [{ uri: { exact: /health } }]
  directResponse: { status: 503, body: { string: maintenance } }
- route: [{ destination: { host: reviews, subset: v1 } }]
`),
      workloadsOf(reviews),
    );
    const moved = await client.get('http://reviews:9080/old/page?x=1');
    expect(moved.status).toBe(308);
    expect(moved.headers.location).toBe('http://reviews:9080/new/page?x=1');
    const direct = await client.get('http://reviews:9080/health');
    expect([direct.status, direct.body]).toEqual([503, 'maintenance']);
    expect(direct.headers[RESPONSE_FLAGS_HEADER]).toBeUndefined();
    expect(upstream('v1').seen).toHaveLength(0);
  });

  it('answers 404 with flag NR when a VirtualService has no route for the request', async () => {
    const client = scenario.open(
      reviewsRoutes(`
- match: [{ uri: { prefix: /reviews } }]
  route: [{ destination: { host: reviews, subset: v1 } }]
`),
      workloadsOf(reviews),
    );
    const response = await client.get('http://reviews:9080/ratings');
    expect([response.status, response.headers[RESPONSE_FLAGS_HEADER]]).toEqual([404, 'NR']);
    expect(response.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_NO_ROUTE');
  });

  it('answers 503 UH when the chosen subset has no endpoints', async () => {
    const client = scenario.open(
      reviewsRoutes(`
- route: [{ destination: { host: reviews, subset: v9 } }]
`),
      workloadsOf(reviews),
    );
    const response = await client.get('http://reviews:9080/');
    expect([response.status, response.body, response.headers[RESPONSE_FLAGS_HEADER]]).toEqual([
      503,
      'no healthy upstream',
      'UH',
    ]);
    expect(response.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_NO_HEALTHY_UPSTREAM');
  });
});

describe('retrying non-idempotent requests', () => {
  let reviews: ServiceUpstreams;
  beforeEach(async () => {
    reviews = await scenario.startVersions(['v1']);
    reviews.byVersion
      .get('v1')
      ?.behave((_request, index) => (index === 0 ? { kind: 'respond', status: 503 } : { kind: 'respond' }));
  });

  const config = (annotations: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
${annotations}
spec:
  hosts: [reviews]
  http:
  - name: writes
    retries: { attempts: 2, retryOn: 5xx }
    route: [{ destination: { host: reviews } }]
`;

  it('does not retry a POST that reached the upstream, by default', async () => {
    const client = scenario.open(config(''), workloadsOf(reviews));
    const response = await client.send('http://reviews:9080/', { method: 'POST', body: 'x' });
    expect(response.status).toBe(503);
    expect(reviews.byVersion.get('v1')?.seen).toHaveLength(1);
  });

  it('retries it when the VirtualService names the route in retry.weft.dev/non-idempotent', async () => {
    const client = scenario.open(
      config('  annotations: { retry.weft.dev/non-idempotent: writes }'),
      workloadsOf(reviews),
    );
    const response = await client.send('http://reviews:9080/', { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    expect(reviews.byVersion.get('v1')?.seen.map((seen) => seen.body)).toEqual(['x', 'x']);
  });
});

describe('bad-inputs A15: fault headers from callers', () => {
  it('ignores Envoy-style fault headers: only the route configures faults', async () => {
    const reviews = await scenario.startVersions(['v1']);
    const client = scenario.open(
      reviewsRoutes('- route: [{ destination: { host: reviews, subset: v1 } }]\n'),
      workloadsOf(reviews),
    );
    const response = await client.get('http://reviews:9080/', {
      'x-envoy-fault-abort-request': '503',
      'x-envoy-fault-abort-request-percentage': '100',
      'x-envoy-fault-delay-request': '5000',
    });
    expect([response.status, response.body]).toEqual([200, 'reviews-v1']);
    expect(response.headers[RESPONSE_FLAGS_HEADER]).toBeUndefined();
    expect(reviews.byVersion.get('v1')?.seen).toHaveLength(1);
  });
});

describe('hosts outside the mesh', () => {
  let external: Upstream;
  beforeEach(async () => {
    external = await scenario.startUpstream('external');
  });

  it('pass through unchanged under ALLOW_ANY', async () => {
    const client = scenario.open('', []);
    const response = await client.get(`http://127.0.0.1:${external.port}/x`);
    expect([response.status, response.body]).toEqual([200, 'external']);
  });

  it('are refused with 502 NR under REGISTRY_ONLY, and the upstream sees nothing', async () => {
    const client = scenario.open(
      `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default }
spec:
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }
`,
      [],
    );
    const response = await client.get(`http://127.0.0.1:${external.port}/x`);
    expect([response.status, response.headers[RESPONSE_FLAGS_HEADER]]).toEqual([502, 'NR']);
    expect(response.body).toContain('REGISTRY_ONLY');
    expect(external.seen).toHaveLength(0);
  });
});
