/**
 * Section A of shared/reference/bad-inputs.md: bad configuration. One `describe` per row; rows
 * that belong to the agent or the data path say where they are covered.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  compile,
  compileSafeRegex,
  parseConfig,
  parseConfigObjects,
  parseConfigStrict,
} from '../src/index.ts';
import { BOOKINFO_WORKLOADS, PRODUCTPAGE, request } from './bookinfo-fixtures.ts';

const virtualService = (name: string, spec: object, metadata: object = {}) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'default', ...metadata },
  spec,
});
const destinationRule = (name: string, spec: object, metadata: object = {}) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, namespace: 'default', ...metadata },
  spec,
});
const reviewsRoute = (subset: string) => ({ route: [{ destination: { host: 'reviews', subset } }] });
const errorsOf = (issues: readonly { severity: string }[]) =>
  issues.filter((issue) => issue.severity === 'error');

describe('A1: malformed YAML or a schema failure', () => {
  it('refuses malformed YAML with its line and column, and stores nothing', () => {
    const { resources, issues } = parseConfig('apiVersion: networking.istio.io/v1\nkind: [unclosed\n', {
      file: 'bad.yaml',
    });
    expect(resources).toEqual([]);
    expect(issues[0]).toMatchObject({
      severity: 'error',
      code: 'invalid-yaml',
      location: { file: 'bad.yaml', line: 3 },
    });
    expect(issues[0]?.message).toMatch(/Flow sequence/);
  });

  it('parseConfigStrict refuses the whole input when one resource fails its schema', () => {
    const text = [
      virtualService('ok', { hosts: ['a'], http: [reviewsRoute('v1')] }),
      virtualService('bad', { hosts: [] }),
    ]
      .map((document) => stringify(document))
      .join('---\n');
    expect(() => parseConfigStrict(text, { file: 'vs.yaml' })).toThrow(
      /VirtualService\/default\/bad spec\.hosts/,
    );
  });
});

describe('A2: huge documents and lists', () => {
  it('refuses input over the byte cap before parsing it', () => {
    const { resources, issues } = parseConfig('#'.repeat(2048), { limits: { maxInputBytes: 1024 } });
    expect(resources).toEqual([]);
    expect(issues[0]).toMatchObject({
      code: 'limit-exceeded',
      message: 'input is 2048 bytes; the limit is 1024',
    });
  });

  it('refuses one oversized document and keeps the others', () => {
    const small = stringify(virtualService('small', { hosts: ['a'], http: [reviewsRoute('v1')] }));
    const large = stringify(
      virtualService('large', { hosts: ['b'], http: [{ name: 'x'.repeat(4000), ...reviewsRoute('v1') }] }),
    );
    const { resources, issues } = parseConfig(`${small}---\n${large}`, {
      limits: { maxDocumentBytes: 2048 },
    });
    expect(resources.map((resource) => resource.metadata.name)).toEqual(['small']);
    expect(issues[0]?.message).toMatch(/^document is \d+ bytes; the limit is 2048$/);
  });

  it('refuses a list longer than the cap (10^5 routes)', () => {
    const http = Array.from({ length: 100_000 }, () => reviewsRoute('v1'));
    const { resources, issues } = parseConfigObjects([virtualService('many', { hosts: ['a'], http })]);
    expect(resources).toEqual([]);
    expect(issues[0]).toMatchObject({ path: 'spec.http', message: 'at most 10000 entries are allowed' });
  });

  it('refuses more resources than the cap', () => {
    const many = Array.from({ length: 5 }, (_, i) =>
      virtualService(`vs${i}`, { hosts: ['a'], http: [reviewsRoute('v1')] }),
    );
    const { resources, issues } = parseConfigObjects(many, { limits: { maxResources: 3 } });
    expect(resources).toHaveLength(3);
    expect(issues[0]?.code).toBe('limit-exceeded');
  });

  it('refuses values nested deeper than the cap', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = { a: deep };
    const { issues } = parseConfigObjects([virtualService('deep', { hosts: ['a'], http: [], extra: deep })]);
    expect(issues[0]).toMatchObject({ code: 'too-deep' });
  });
});

describe('A3: YAML alias bomb', () => {
  it('refuses a billion-laughs document', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) {
      const previous = String.fromCharCode(96 + i);
      const current = String.fromCharCode(97 + i);
      lines.push(`${current}: &${current} [${Array(10).fill(`*${previous}`).join(',')}]`);
    }
    const { resources, issues } = parseConfig(lines.join('\n'), { file: 'bomb.yaml' });
    expect(resources).toEqual([]);
    expect(issues[0]?.message).toMatch(/Excessive alias count/);
  });
});

describe('A4: __proto__, constructor and prototype keys', () => {
  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses the key %s anywhere and pollutes nothing',
    (key) => {
      const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: polluted
spec:
  hosts: [a]
  http:
  - route:
    - destination:
        host: reviews
      headers:
        request:
          set:
            ${key}: {polluted: true}
`;
      const { resources, issues } = parseConfig(text, { file: 'p.yaml' });
      expect(resources).toEqual([]);
      expect(issues[0]).toMatchObject({ code: 'forbidden-key', location: { line: 14 } });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );
});

describe('A5: duplicate keys', () => {
  it('refuses a mapping with the same key twice', () => {
    const text =
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: a\n  name: b\nspec: {}\n';
    const { resources, issues } = parseConfig(text);
    expect(resources).toEqual([]);
    expect(issues[0]).toMatchObject({ code: 'invalid-yaml', location: { line: 5 } });
    expect(issues[0]?.message).toMatch(/Map keys must be unique/);
  });
});

describe('A6: unknown fields', () => {
  it('ignores and reports an unknown field in a traffic kind, keeping the resource', () => {
    const { resources, issues } = parseConfigObjects([
      virtualService('future', { hosts: ['a'], http: [{ ...reviewsRoute('v1'), futureKnob: 3 }] }),
    ]);
    expect(resources).toHaveLength(1);
    expect(issues).toMatchObject([
      { severity: 'warning', code: 'unknown-field', path: 'spec.http[0].futureKnob' },
    ]);
    const spec = resources[0]?.spec as { http: object[] } | undefined;
    expect(spec?.http[0]).toBeDefined();
    expect(spec?.http[0]).not.toHaveProperty('futureKnob');
  });

  it('refuses an unknown field in a security kind (fail closed)', () => {
    const { resources, issues } = parseConfigObjects([
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'deny-admin' },
        spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'], hostz: ['x'] } }] }] },
      },
    ]);
    expect(resources).toEqual([]);
    expect(issues).toMatchObject([
      { severity: 'error', code: 'unknown-field', path: 'spec.rules[0].to[0].operation.hostz' },
    ]);
  });
});

describe('A7: a supported field with an unsupported value', () => {
  it('refuses that resource and keeps the others of the same input', () => {
    const { resources, issues } = parseConfigObjects([
      destinationRule('bad', { host: 'reviews', trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } }),
      destinationRule('good', { host: 'ratings', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }),
    ]);
    expect(resources.map((resource) => resource.metadata.name)).toEqual(['good']);
    expect(errorsOf(issues)).toMatchObject([
      { resource: 'DestinationRule/default/bad', path: 'spec.trafficPolicy.loadBalancer.simple' },
    ]);
  });
});

describe('A8: invalid regexes', () => {
  it.each([
    ['(unclosed', /missing closing \)/],
    ['(a)\\1', /invalid escape sequence/],
    ['(?=lookahead)', /unsupported Perl syntax/],
  ])('refuses %s at parse time', (regex, reason) => {
    const { resources, issues } = parseConfigObjects([
      virtualService('re', { hosts: ['a'], http: [{ match: [{ uri: { regex } }], ...reviewsRoute('v1') }] }),
    ]);
    expect(resources).toEqual([]);
    expect(issues[0]?.path).toBe('spec.http[0].match[0].uri.regex');
    expect(issues[0]?.message).toMatch(reason);
  });
});

describe('A9: catastrophic backtracking and very long regexes', () => {
  it('matches (a+)+$ against a long hostile input with the linear-time engine', () => {
    const compiled = compileSafeRegex('(a+)+$');
    if (!compiled.ok) throw new Error(compiled.reason);
    // V8's backtracking engine would not return from this call; RE2 semantics make it linear.
    expect(compiled.regex.matches(`${'a'.repeat(100_000)}b`)).toBe(false);
    expect(compiled.regex.matches('a'.repeat(100_000))).toBe(true);
  });

  it('refuses a pattern longer than 1024 characters', () => {
    const { issues } = parseConfigObjects([
      virtualService('long', {
        hosts: ['a'],
        http: [{ match: [{ uri: { regex: 'a'.repeat(1025) } }], ...reviewsRoute('v1') }],
      }),
    ]);
    expect(issues[0]?.message).toBe('regex is 1025 characters long; the limit is 1024');
  });

  it('refuses a short pattern that compiles to too large a program', () => {
    const result = compileSafeRegex('((a{100}){100}){100}');
    expect(result.ok).toBe(false);
  });
});

describe('A10: conflicting routes for the same host across resources', () => {
  const older = virtualService(
    'older',
    { hosts: ['reviews'], http: [{ name: 'from-older', ...reviewsRoute('v1') }] },
    {
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
  );
  const newer = virtualService(
    'newer',
    { hosts: ['reviews'], http: [{ name: 'from-newer', ...reviewsRoute('v2') }] },
    {
      creationTimestamp: '2026-02-01T00:00:00Z',
    },
  );

  it('orders the claims by creation time, whatever order they arrive in', () => {
    for (const order of [
      [older, newer],
      [newer, older],
    ]) {
      const { resources } = parseConfigObjects(order);
      const view = compile(resources, { workloads: BOOKINFO_WORKLOADS }).forWorkload(PRODUCTPAGE);
      const table = view.routeTable('reviews.default.svc.cluster.local', 9080);
      expect(table?.routes.map((route) => route.name)).toEqual(['from-older', 'from-newer']);
      expect(table?.match(request('/'))?.name).toBe('from-older');
    }
  });

  it('breaks creation-time ties by namespace, then name', () => {
    const a = virtualService('a', { hosts: ['reviews'], http: [{ name: 'a', ...reviewsRoute('v1') }] });
    const b = virtualService('b', { hosts: ['reviews'], http: [{ name: 'b', ...reviewsRoute('v2') }] });
    const { resources } = parseConfigObjects([b, a]);
    const view = compile(resources, { workloads: BOOKINFO_WORKLOADS }).forWorkload(PRODUCTPAGE);
    expect(
      view.routeTable('reviews.default.svc.cluster.local', 9080)?.routes.map((route) => route.name),
    ).toEqual(['a', 'b']);
  });
});

describe('A11: duplicate subsets and traffic policies across DestinationRules', () => {
  it('keeps the first definition of a subset and of the top-level policy', () => {
    const { resources } = parseConfigObjects([
      destinationRule(
        'first',
        {
          host: 'reviews',
          trafficPolicy: { loadBalancer: { simple: 'RANDOM' } },
          subsets: [{ name: 'v1', labels: { version: 'v1' } }],
        },
        {
          creationTimestamp: '2026-01-01T00:00:00Z',
        },
      ),
      destinationRule(
        'second',
        {
          host: 'reviews',
          trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
          subsets: [
            { name: 'v1', labels: { version: 'v3' } },
            { name: 'v2', labels: { version: 'v2' } },
          ],
        },
        { creationTimestamp: '2026-02-01T00:00:00Z' },
      ),
      virtualService('reviews', { hosts: ['reviews'], http: [reviewsRoute('v1')] }),
    ]);
    const view = compile(resources, { workloads: BOOKINFO_WORKLOADS }).forWorkload(PRODUCTPAGE);
    const route = view.routeTable('reviews.default.svc.cluster.local', 9080)?.match(request('/'));
    const destination = route?.destinations[0];
    const cluster = destination === undefined ? undefined : view.cluster(destination);
    expect(cluster?.endpoints.map((endpoint) => endpoint.port)).toEqual([19003]);
    expect(cluster?.policy.loadBalancer?.simple).toBe('RANDOM');
    expect(cluster?.destinationRules).toEqual([
      'DestinationRule/default/first',
      'DestinationRule/default/second',
    ]);
    const v2 = view.cluster({
      clusterName: 'outbound|9080|v2|reviews.default.svc.cluster.local',
      host: 'reviews.default.svc.cluster.local',
      port: 9080,
      subset: 'v2',
      weight: 1,
    });
    expect(v2?.endpoints.map((endpoint) => endpoint.port)).toEqual([19004]);
  });
});

describe('A12: a route to a subset that does not exist (config tear)', () => {
  it('compiles, and the cluster says the subset is missing and has no endpoints', () => {
    const { resources } = parseConfigObjects([
      virtualService('reviews', { hosts: ['reviews'], http: [reviewsRoute('v9')] }),
    ]);
    const view = compile(resources, { workloads: BOOKINFO_WORKLOADS }).forWorkload(PRODUCTPAGE);
    const destination = view.routeTable('reviews.default.svc.cluster.local', 9080)?.match(request('/'))
      ?.destinations[0];
    const cluster = destination === undefined ? undefined : view.cluster(destination);
    expect(cluster).toMatchObject({ missingSubset: true, endpoints: [] });
  });
});

describe("A17: a namespace claiming another team's host", () => {
  const hijack = virtualService(
    'hijack',
    { hosts: ['reviews.default.svc.cluster.local'], http: [reviewsRoute('v3')] },
    {
      namespace: 'attacker',
    },
  );

  it('applies only to callers in the claiming namespace by default', () => {
    const { resources } = parseConfigObjects([hijack]);
    const snapshot = compile(resources, { workloads: BOOKINFO_WORKLOADS });
    const victim = snapshot.forWorkload(PRODUCTPAGE).routeTable('reviews.default.svc.cluster.local', 9080);
    expect(victim?.routes.map((route) => route.name)).toEqual(['default']);
    const own = snapshot
      .forWorkload({ namespace: 'attacker', labels: {} })
      .routeTable('reviews.default.svc.cluster.local', 9080);
    expect(own?.routes.map((route) => route.source)).toEqual(['VirtualService/attacker/hijack']);
  });

  it("applies mesh-wide when the mesh opts into Istio's behaviour", () => {
    const { resources } = parseConfigObjects([hijack]);
    const snapshot = compile(
      resources,
      { workloads: BOOKINFO_WORKLOADS },
      { crossNamespaceHostClaims: 'mesh-wide' },
    );
    const victim = snapshot.forWorkload(PRODUCTPAGE).routeTable('reviews.default.svc.cluster.local', 9080);
    expect(victim?.routes.map((route) => route.source)).toEqual(['VirtualService/attacker/hijack']);
  });
});
