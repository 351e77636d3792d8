/**
 * HTTP route matching as a sidecar caller sees it, checked against Istio's VirtualService
 * reference: HTTPMatchRequest (uri, headers, withoutHeaders, queryParams, method, authority,
 * scheme, port, sourceLabels, sourceNamespace, gateways), HTTPRoute ordering, weights,
 * destination ports, retries and timeouts. Every resource goes through the parser first.
 */
import { describe, expect, it } from 'vitest';
import {
  type CompiledRoute,
  compile,
  formatConfigIssue,
  parseConfigObjects,
  pickWeighted,
  type RegisteredWorkload,
  type Resource,
  type RouteRequest,
  type RouteTable,
  type SourceWorkload,
} from '../src/index.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';
const MULTI = 'multi.default.svc.cluster.local';

function workload(
  service: string,
  version: string,
  ports: Record<number, number>,
  namespace = 'default',
): RegisteredWorkload {
  return {
    name: `${service}-${version}`,
    namespace,
    service,
    serviceAccount: service,
    labels: { app: service, version },
    address: '127.0.0.1',
    ports,
  };
}

/** reviews v1–v3 on 9080 (one port); multi on 8080 and 9090 (two ports). */
const registry = {
  workloads: [
    workload('reviews', 'v1', { 9080: 19001 }),
    workload('reviews', 'v2', { 9080: 19002 }),
    workload('reviews', 'v3', { 9080: 19003 }),
    workload('multi', 'v1', { 8080: 18080, 9090: 19090 }),
  ],
};

const PRODUCTPAGE: SourceWorkload = { namespace: 'default', labels: { app: 'productpage', version: 'v1' } };

/** Parses objects as the public API does and fails the test on any error. */
function load(...objects: object[]): readonly Resource[] {
  const { resources, issues } = parseConfigObjects(objects);
  const errors = issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatConfigIssue).join('\n'));
  return resources;
}

function virtualService(name: string, spec: object, metadata: object = {}) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: 'default', ...metadata },
    spec,
  };
}

const toReviews = (subset?: string, extra: object = {}) => ({
  destination: { host: 'reviews', ...(subset === undefined ? {} : { subset }) },
  ...extra,
});

function toRoute(name: string, extra: object = {}) {
  return { name, route: [toReviews('v1')], ...extra };
}

interface TableQuery {
  readonly source?: SourceWorkload;
  readonly host?: string;
  readonly port?: number;
}

function tableOf(
  resources: readonly Resource[],
  { source = PRODUCTPAGE, host = REVIEWS, port = 9080 }: TableQuery = {},
): RouteTable {
  const table = compile(resources, registry).forWorkload(source).routeTable(host, port);
  if (table === undefined) throw new Error(`no route table for ${host}:${port}`);
  return table;
}

const routeNames = (table: RouteTable) => table.routes.map((route) => route.name);

interface RequestParts {
  readonly path?: string;
  readonly method?: string;
  readonly authority?: string;
  readonly scheme?: string;
  readonly port?: number;
  readonly headers?: Record<string, string>;
}

function request({
  path = '/',
  method = 'GET',
  authority = 'reviews:9080',
  scheme = 'http',
  port = 9080,
  headers = {},
}: RequestParts = {}): RouteRequest {
  const byName = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { path, method, authority, scheme, port, header: (name) => byName.get(name) };
}

/** Whether a request matches a route with this single match block (the table has no fallback). */
function matches(match: object, parts: RequestParts): boolean {
  const resources = load(
    virtualService('reviews', {
      hosts: ['reviews'],
      http: [{ name: 'matched', match: [match], route: [toReviews('v1')] }],
    }),
  );
  return tableOf(resources).match(request(parts))?.name === 'matched';
}

function onlyRoute(table: RouteTable): CompiledRoute {
  const [route] = table.routes;
  if (route === undefined || table.routes.length !== 1)
    throw new Error(`expected one route in ${table.host}`);
  return route;
}

describe('uri matching', () => {
  it.each([
    ['/api', true],
    ['/api?x=1', true],
    ['/api/', false],
    ['/api/v1', false],
    ['/API', false],
  ])('exact "/api" against %s → %s', (path, expected) => {
    expect(matches({ uri: { exact: '/api' } }, { path })).toBe(expected);
  });

  it.each([
    ['/api', true],
    ['/api/v1', true],
    ['/apix', true],
    ['/ap', false],
    ['/v1/api', false],
  ])('prefix "/api" against %s → %s', (path, expected) => {
    expect(matches({ uri: { prefix: '/api' } }, { path })).toBe(expected);
  });

  it.each([
    ['/api/42', true],
    ['/api/42?page=2', true],
    ['/api/42/x', false],
    ['/x/api/42', false],
    ['/api/', false],
  ])('regex "/api/[0-9]+" must match the whole path: %s → %s', (path, expected) => {
    expect(matches({ uri: { regex: '/api/[0-9]+' } }, { path })).toBe(expected);
  });

  it('ignores the query string: a regex anchored on the path still matches with ?a=b', () => {
    expect(matches({ uri: { regex: '/search' } }, { path: '/search?q=a' })).toBe(true);
    expect(matches({ uri: { exact: '/search?q=a' } }, { path: '/search?q=a' })).toBe(false);
  });

  it('ignoreUriCase makes exact and prefix matches case-insensitive', () => {
    expect(matches({ uri: { exact: '/Api' }, ignoreUriCase: true }, { path: '/aPI' })).toBe(true);
    expect(matches({ uri: { exact: '/Api' }, ignoreUriCase: true }, { path: '/apix' })).toBe(false);
    expect(matches({ uri: { prefix: '/Api' }, ignoreUriCase: true }, { path: '/API/v1' })).toBe(true);
    expect(matches({ uri: { prefix: '/Api' }, ignoreUriCase: true }, { path: '/ap' })).toBe(false);
  });

  it('ignoreUriCase leaves a regex case-sensitive (Istio ignores case for exact and prefix only)', () => {
    expect(matches({ uri: { regex: '/api' }, ignoreUriCase: true }, { path: '/api' })).toBe(true);
    expect(matches({ uri: { regex: '/api' }, ignoreUriCase: true }, { path: '/API' })).toBe(false);
  });

  it('an empty uri match ({}) matches every path', () => {
    expect(matches({ uri: {} }, { path: '/anything/at/all?x' })).toBe(true);
  });
});

describe('header matching', () => {
  it.each([
    [{ 'end-user': 'jason' }, true],
    [{ 'end-user': 'Jason' }, false],
    [{ 'end-user': 'jason2' }, false],
    [{}, false],
  ])('exact "jason" against %o → %s', (headers, expected) => {
    expect(matches({ headers: { 'end-user': { exact: 'jason' } } }, { headers })).toBe(expected);
  });

  it('prefix matches the start of the value, case-sensitively', () => {
    const match = { headers: { authorization: { prefix: 'Bearer ' } } };
    expect(matches(match, { headers: { authorization: 'Bearer abc' } })).toBe(true);
    expect(matches(match, { headers: { authorization: 'bearer abc' } })).toBe(false);
    expect(matches(match, {})).toBe(false);
  });

  it('regex must match the whole value', () => {
    const match = { headers: { 'x-version': { regex: 'v[0-9]+' } } };
    expect(matches(match, { headers: { 'x-version': 'v12' } })).toBe(true);
    expect(matches(match, { headers: { 'x-version': 'xv12' } })).toBe(false);
    expect(matches(match, { headers: { 'x-version': 'v12x' } })).toBe(false);
  });

  it('{} checks presence only: any value, even empty, matches; absence does not', () => {
    const match = { headers: { 'x-debug': {} } };
    expect(matches(match, { headers: { 'x-debug': '' } })).toBe(true);
    expect(matches(match, { headers: { 'x-debug': 'anything' } })).toBe(true);
    expect(matches(match, { headers: { 'x-other': '1' } })).toBe(false);
  });

  it('matches header names case-insensitively, as HTTP does', () => {
    expect(matches({ headers: { 'X-Debug': { exact: '1' } } }, { headers: { 'x-debug': '1' } })).toBe(true);
  });

  it('withoutHeaders {} matches only when the header is absent', () => {
    const match = { withoutHeaders: { 'x-debug': {} } };
    expect(matches(match, {})).toBe(true);
    expect(matches(match, { headers: { 'x-debug': '' } })).toBe(false);
  });

  it('withoutHeaders with a value matches an absent header and any other value', () => {
    const match = { withoutHeaders: { 'end-user': { exact: 'jason' } } };
    expect(matches(match, {})).toBe(true);
    expect(matches(match, { headers: { 'end-user': 'bob' } })).toBe(true);
    expect(matches(match, { headers: { 'end-user': 'jason' } })).toBe(false);
  });
});

describe('query parameter matching', () => {
  it.each([
    ['/?debug=true', true],
    ['/p?x=1&debug=true', true],
    ['/?debug=false', false],
    ['/?debug', false],
    ['/', false],
  ])('exact "true" against %s → %s', (path, expected) => {
    expect(matches({ queryParams: { debug: { exact: 'true' } } }, { path })).toBe(expected);
  });

  it('regex must match the whole value', () => {
    const match = { queryParams: { page: { regex: '[0-9]+' } } };
    expect(matches(match, { path: '/?page=12' })).toBe(true);
    expect(matches(match, { path: '/?page=12a' })).toBe(false);
    expect(matches(match, { path: '/?other=12' })).toBe(false);
  });

  it('{} checks presence: with or without a value', () => {
    const match = { queryParams: { debug: {} } };
    expect(matches(match, { path: '/?debug' })).toBe(true);
    expect(matches(match, { path: '/?debug=' })).toBe(true);
    expect(matches(match, { path: '/?debug=1' })).toBe(true);
    expect(matches(match, { path: '/?debugger=1' })).toBe(false);
  });

  it('takes parameters from the query string only, never from the path', () => {
    expect(matches({ queryParams: { debug: {} } }, { path: '/debug' })).toBe(false);
  });
});

describe('method, authority, scheme and port matching', () => {
  it('method matches the request method', () => {
    expect(matches({ method: { exact: 'POST' } }, { method: 'POST' })).toBe(true);
    expect(matches({ method: { exact: 'POST' } }, { method: 'GET' })).toBe(false);
  });

  it('authority matches the Host / :authority value', () => {
    expect(matches({ authority: { prefix: 'reviews' } }, { authority: 'reviews:9080' })).toBe(true);
    expect(matches({ authority: { prefix: 'reviews' } }, { authority: 'ratings:9080' })).toBe(false);
    expect(
      matches({ authority: { exact: 'reviews.example.com' } }, { authority: 'reviews.example.com' }),
    ).toBe(true);
  });

  it('scheme matches the request scheme', () => {
    expect(matches({ scheme: { exact: 'https' } }, { scheme: 'https' })).toBe(true);
    expect(matches({ scheme: { exact: 'https' } }, { scheme: 'http' })).toBe(false);
  });

  it('a port match keeps the route in that port’s table only', () => {
    const resources = load(
      virtualService('multi', {
        hosts: ['multi'],
        http: [
          { name: 'on-9090', match: [{ port: 9090 }], route: [{ destination: { host: 'multi' } }] },
          { name: 'rest', route: [{ destination: { host: 'multi' } }] },
        ],
      }),
    );
    const on9090 = tableOf(resources, { host: MULTI, port: 9090 });
    expect(routeNames(on9090)).toEqual(['on-9090', 'rest']);
    expect(on9090.match(request({ port: 9090 }))?.name).toBe('on-9090');
    expect(routeNames(tableOf(resources, { host: MULTI, port: 8080 }))).toEqual(['rest']);
  });
});

describe('match blocks and conditions', () => {
  const resources = load(
    virtualService('reviews', {
      hosts: ['reviews'],
      http: [
        {
          name: 'matched',
          match: [
            { uri: { prefix: '/a' }, headers: { 'x-team': { exact: 'blue' } } },
            { method: { exact: 'DELETE' } },
          ],
          route: [toReviews('v1')],
        },
      ],
    }),
  );
  const table = tableOf(resources);

  it('ANDs the conditions inside one block', () => {
    expect(table.match(request({ path: '/a', headers: { 'x-team': 'blue' } }))?.name).toBe('matched');
    expect(table.match(request({ path: '/a', headers: { 'x-team': 'red' } }))).toBeUndefined();
    expect(table.match(request({ path: '/b', headers: { 'x-team': 'blue' } }))).toBeUndefined();
  });

  it('ORs the blocks of one route', () => {
    expect(table.match(request({ path: '/b', method: 'DELETE' }))?.name).toBe('matched');
    expect(table.match(request({ path: '/b', method: 'GET' }))).toBeUndefined();
  });
});

describe('sourceLabels and sourceNamespace', () => {
  const REVIEWS_V2: SourceWorkload = { namespace: 'default', labels: { app: 'reviews', version: 'v2' } };

  it('drops a route whose only block names other source labels from the caller’s table', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [
          {
            name: 'from-productpage',
            match: [{ sourceLabels: { app: 'productpage' } }],
            route: [toReviews('v2')],
          },
          { name: 'rest', route: [toReviews('v1')] },
        ],
      }),
    );
    expect(routeNames(tableOf(resources))).toEqual(['from-productpage', 'rest']);
    expect(routeNames(tableOf(resources, { source: REVIEWS_V2 }))).toEqual(['rest']);
    expect(tableOf(resources, { source: REVIEWS_V2 }).match(request())?.name).toBe('rest');
  });

  it('needs every source label to be on the caller', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [
          {
            name: 'v1-productpage',
            match: [{ sourceLabels: { app: 'productpage', version: 'v2' } }],
            route: [toReviews('v2')],
          },
          { name: 'rest', route: [toReviews('v1')] },
        ],
      }),
    );
    expect(routeNames(tableOf(resources))).toEqual(['rest']);
  });

  it('keeps a route for callers in its sourceNamespace only', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [
          { name: 'from-test', match: [{ sourceNamespace: 'test' }], route: [toReviews('v3')] },
          { name: 'rest', route: [toReviews('v1')] },
        ],
      }),
    );
    expect(routeNames(tableOf(resources))).toEqual(['rest']);
    const tester: SourceWorkload = { namespace: 'test', labels: { app: 'client' } };
    expect(routeNames(tableOf(resources, { source: tester }))).toEqual(['from-test', 'rest']);
  });

  it('keeps only the blocks that apply to the caller, so an excluded block cannot widen the route', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [
          {
            name: 'mixed',
            // For callers labelled app=other the first block matches everything; not for productpage.
            match: [{ sourceLabels: { app: 'other' } }, { uri: { prefix: '/only' } }],
            route: [toReviews('v2')],
          },
        ],
      }),
    );
    const table = tableOf(resources);
    expect(routeNames(table)).toEqual(['mixed']);
    expect(table.match(request({ path: '/only/this' }))?.name).toBe('mixed');
    expect(table.match(request({ path: '/elsewhere' }))).toBeUndefined();
    const other: SourceWorkload = { namespace: 'default', labels: { app: 'other' } };
    expect(tableOf(resources, { source: other }).match(request({ path: '/elsewhere' }))?.name).toBe('mixed');
  });
});

describe('gateways', () => {
  it('applies a VirtualService without gateways to sidecars (gateway "mesh")', () => {
    const resources = load(virtualService('reviews', { hosts: ['reviews'], http: [toRoute('vs')] }));
    expect(routeNames(tableOf(resources))).toEqual(['vs']);
  });

  it('ignores a VirtualService bound only to an ingress gateway', () => {
    const resources = load(
      virtualService('reviews', { hosts: ['reviews'], gateways: ['default/ingress'], http: [toRoute('vs')] }),
    );
    expect(routeNames(tableOf(resources))).toEqual(['default']);
  });

  it('with gateways [mesh, ingress], drops the blocks whose own gateways exclude mesh', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        gateways: ['mesh', 'default/ingress'],
        http: [
          { name: 'ingress-only', match: [{ gateways: ['default/ingress'] }], route: [toReviews('v3')] },
          {
            name: 'mesh-only',
            match: [{ gateways: ['mesh'], uri: { prefix: '/m' } }],
            route: [toReviews('v2')],
          },
          { name: 'inherits', route: [toReviews('v1')] },
        ],
      }),
    );
    expect(routeNames(tableOf(resources))).toEqual(['mesh-only', 'inherits']);
  });

  describe('in a VirtualService whose top-level gateways exclude mesh', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        gateways: ['default/ingress'],
        http: [
          { name: 'for-mesh', match: [{ gateways: ['mesh'] }], route: [toReviews('v2')] },
          { name: 'for-ingress', match: [{ uri: { prefix: '/' } }], route: [toReviews('v3')] },
          { name: 'for-ingress-no-match', route: [toReviews('v1')] },
        ],
      }),
    );

    it('applies a route whose match.gateways names mesh (match.gateways overrides the top level)', () => {
      expect(routeNames(tableOf(resources))).toContain('for-mesh');
      expect(tableOf(resources).match(request())?.name).toBe('for-mesh');
    });

    it('drops routes that inherit the top-level gateways, with or without match blocks', () => {
      expect(routeNames(tableOf(resources))).toEqual(['for-mesh']);
    });
  });
});

describe('route order and fallbacks', () => {
  it('takes the first route that matches, in declaration order', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [
          toRoute('api', { match: [{ uri: { prefix: '/api' } }] }),
          toRoute('everything', { match: [{ uri: { prefix: '/' } }] }),
          toRoute('never-reached'),
        ],
      }),
    );
    const table = tableOf(resources);
    expect(table.match(request({ path: '/api/x' }))?.name).toBe('api');
    expect(table.match(request({ path: '/other' }))?.name).toBe('everything');
  });

  it('concatenates several VirtualServices for one host, oldest first (Weft merges; see resource-order.ts)', () => {
    const resources = load(
      virtualService(
        'newer',
        { hosts: ['reviews'], http: [toRoute('newer-all')] },
        { creationTimestamp: '2025-01-01T00:00:00Z' },
      ),
      virtualService(
        'older',
        { hosts: ['reviews'], http: [toRoute('older-api', { match: [{ uri: { prefix: '/api' } }] })] },
        { creationTimestamp: '2024-01-01T00:00:00Z' },
      ),
    );
    const table = tableOf(resources);
    expect(routeNames(table)).toEqual(['older-api', 'newer-all']);
    expect(table.match(request({ path: '/api/x' }))?.name).toBe('older-api');
    expect(table.match(request({ path: '/x' }))?.name).toBe('newer-all');
  });

  it('returns undefined (Envoy’s NR) when a VirtualService exists and no route matches', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [toRoute('api', { match: [{ uri: { prefix: '/api' } }] })],
      }),
    );
    const table = tableOf(resources);
    expect(routeNames(table)).toEqual(['api']);
    expect(table.match(request({ path: '/other' }))).toBeUndefined();
  });

  it('without a VirtualService, routes everything to the whole service with the default route', () => {
    const table = tableOf(load());
    const route = table.match(request({ path: '/any', method: 'PATCH' }));
    expect(route).toMatchObject({
      name: 'default',
      source: 'default',
      totalWeight: 1,
      destinations: [{ clusterName: `outbound|9080||${REVIEWS}`, host: REVIEWS, port: 9080, weight: 1 }],
    });
    expect(route?.timeoutMs).toBeUndefined();
    expect(route?.retry.attempts).toBe(2);
  });

  it('names routes by http[].name, else VirtualService/<ns>/<name>#<index>', () => {
    const resources = load(
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [
          toRoute('named', { match: [{ uri: { prefix: '/a' } }] }),
          { match: [{ uri: { prefix: '/b' } }], route: [toReviews('v2')] },
          { route: [toReviews('v3')] },
        ],
      }),
    );
    const table = tableOf(resources);
    expect(routeNames(table)).toEqual([
      'named',
      'VirtualService/default/reviews#1',
      'VirtualService/default/reviews#2',
    ]);
    expect(table.routes.map((route) => route.source)).toEqual(
      Array(3).fill('VirtualService/default/reviews'),
    );
  });
});

describe('weighted destinations', () => {
  const split = (destinations: object[]) =>
    onlyRoute(
      tableOf(load(virtualService('reviews', { hosts: ['reviews'], http: [{ route: destinations }] }))),
    );
  const subsetAt = (route: CompiledRoute, draw: number) => pickWeighted(route, draw)?.subset;

  it('splits by weight: draws below 0.2 go to the 20% destination, the rest to the 80% one', () => {
    const route = split([toReviews('v1', { weight: 20 }), toReviews('v3', { weight: 80 })]);
    expect(route.totalWeight).toBe(100);
    expect([0, 0.1999, 0.2, 0.5, 0.9999].map((draw) => subsetAt(route, draw))).toEqual([
      'v1',
      'v1',
      'v3',
      'v3',
      'v3',
    ]);
  });

  it('never picks a destination of weight 0, nor one left without a weight beside weighted ones', () => {
    const route = split([toReviews('v1', { weight: 0 }), toReviews('v2', { weight: 100 }), toReviews('v3')]);
    expect([0, 0.5, 0.9999].map((draw) => subsetAt(route, draw))).toEqual(['v2', 'v2', 'v2']);
  });

  it('refuses several destinations that all lack a weight, as Istio validation does', () => {
    const { issues } = parseConfigObjects([
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [{ route: [toReviews('v1'), toReviews('v2')] }],
      }),
    ]);
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'error', path: 'spec.http[0].route' }));
  });

  it.each([
    ['without a weight', {}],
    ['with weight 0', { weight: 0 }],
  ])('sends everything to a single destination %s', (_case, weight) => {
    const route = split([toReviews('v2', weight)]);
    expect(route.totalWeight).toBe(1);
    expect([0, 0.5, 0.9999].map((draw) => subsetAt(route, draw))).toEqual(['v2', 'v2', 'v2']);
  });
});

describe('destination ports', () => {
  const destinationOf = (route: object, port: number) => {
    const resources = load(virtualService('multi', { hosts: ['multi'], http: [route] }));
    return onlyRoute(tableOf(resources, { host: MULTI, port })).destinations[0];
  };

  it('defaults to the only port of a single-port destination, whatever port was called', () => {
    expect(destinationOf({ route: [toReviews('v1')] }, 8080)).toMatchObject({
      port: 9080,
      clusterName: `outbound|9080|v1|${REVIEWS}`,
    });
  });

  it('defaults to the called port when the destination has several ports', () => {
    const route = { route: [{ destination: { host: 'multi' } }] };
    expect(destinationOf(route, 9090)).toMatchObject({ port: 9090, clusterName: `outbound|9090||${MULTI}` });
    expect(destinationOf(route, 8080)).toMatchObject({ port: 8080, clusterName: `outbound|8080||${MULTI}` });
  });

  it('uses destination.port when it is given', () => {
    const route = { route: [{ destination: { host: 'multi', port: { number: 9090 } } }] };
    expect(destinationOf(route, 8080)).toMatchObject({ port: 9090, clusterName: `outbound|9090||${MULTI}` });
  });
});

describe('retries', () => {
  const retryOf = (retries?: object) =>
    onlyRoute(
      tableOf(
        load(
          virtualService('reviews', {
            hosts: ['reviews'],
            http: [{ route: [toReviews('v1')], ...(retries === undefined ? {} : { retries }) }],
          }),
        ),
      ),
    ).retry;

  it("applies Istio's default policy without retries: 2 attempts, on connect failures, resets and 503", () => {
    const retry = retryOf();
    expect(retry.attempts).toBe(2);
    expect([...retry.retryOn].sort()).toEqual(
      ['cancelled', 'connect-failure', 'refused-stream', 'retriable-status-codes', 'unavailable'].sort(),
    );
    expect([...retry.retriableStatusCodes]).toEqual([503]);
  });

  it('attempts: 0 disables retries', () => {
    expect(retryOf({ attempts: 0 }).attempts).toBe(0);
  });

  it('a retries block without attempts disables retries (proto3 reads the missing field as 0)', () => {
    expect(retryOf({}).attempts).toBe(0);
  });

  it('keeps the default conditions when only attempts is set', () => {
    const retry = retryOf({ attempts: 4 });
    expect(retry.attempts).toBe(4);
    expect(retry.retryOn.has('connect-failure')).toBe(true);
    expect([...retry.retriableStatusCodes]).toEqual([503]);
  });

  it('turns status codes in retryOn into retriable status codes', () => {
    const retry = retryOf({ attempts: 3, retryOn: 'gateway-error,429,503' });
    expect([...retry.retryOn].sort()).toEqual(['gateway-error', 'retriable-status-codes']);
    expect([...retry.retriableStatusCodes].sort()).toEqual([429, 503]);
  });

  it('retries no status code when retryOn names only conditions', () => {
    const retry = retryOf({ attempts: 3, retryOn: '5xx,reset' });
    expect([...retry.retryOn].sort()).toEqual(['5xx', 'reset']);
    expect(retry.retriableStatusCodes.size).toBe(0);
  });

  it('retries no status code on a bare retriable-status-codes without codes (Istio replaces the 503 default)', () => {
    // Istio's ConvertPolicy: a user retryOn replaces both retry_on and retriable_status_codes of the
    // default policy, so `retriable-status-codes` alone leaves the code list empty.
    const retry = retryOf({ attempts: 3, retryOn: 'retriable-status-codes' });
    expect(retry.retryOn.has('retriable-status-codes')).toBe(true);
    expect(retry.retriableStatusCodes.size).toBe(0);
  });

  it('carries perTryTimeout in milliseconds', () => {
    expect(retryOf({ attempts: 3, perTryTimeout: '2s' }).perTryTimeoutMs).toBe(2000);
    expect(retryOf({ attempts: 3 }).perTryTimeoutMs).toBeUndefined();
  });
});

describe('route timeout', () => {
  const withTimeout = (timeout?: string) =>
    load(
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [{ route: [toReviews('v1')], ...(timeout === undefined ? {} : { timeout }) }],
      }),
    );

  it('carries the timeout in milliseconds', () => {
    expect(onlyRoute(tableOf(withTimeout('1.5s'))).timeoutMs).toBe(1500);
  });

  it('has no timeout when none is set (Istio’s default is disabled)', () => {
    expect(onlyRoute(tableOf(withTimeout())).timeoutMs).toBeUndefined();
  });

  it('treats a timeout of 0 as no timeout', () => {
    // The parser refuses `0s` as Istio's validation does; a resource built in code can still carry 0.
    const [parsed] = withTimeout('1s');
    if (parsed === undefined) throw new Error('nothing parsed');
    const spec = parsed.spec as { http: object[] };
    const zero = { ...parsed, spec: { ...spec, http: spec.http.map((route) => ({ ...route, timeout: 0 })) } };
    expect(onlyRoute(tableOf([zero])).timeoutMs).toBeUndefined();
  });
});
