/**
 * analyze(): one `describe` per built-in check code. Each has a minimal config that triggers the
 * check (exact code, severity, resource, path, and a message that says what to change) and a
 * close variant that must not, so a check that always fires or never fires fails here.
 */
import { describe, expect, it } from 'vitest';
import {
  type AnalyzeOptions,
  analysisChecks,
  analyze,
  type ConfigIssue,
  parseConfig,
  parseConfigObjects,
  type Resource,
} from '../src/index.ts';
import { BOOKINFO_WORKLOADS, loadBookinfo } from './bookinfo-fixtures.ts';

const registry = { workloads: BOOKINFO_WORKLOADS };

type Metadata = { namespace?: string; creationTimestamp?: string };

const resource =
  (apiVersion: string, kind: string) =>
  (name: string, spec: object, metadata: Metadata = {}) => ({
    apiVersion,
    kind,
    metadata: { name, namespace: 'default', ...metadata },
    spec,
  });
const virtualService = resource('networking.istio.io/v1', 'VirtualService');
const destinationRule = resource('networking.istio.io/v1', 'DestinationRule');
const gateway = resource('networking.istio.io/v1', 'Gateway');
const serviceEntry = resource('networking.istio.io/v1', 'ServiceEntry');
const sidecar = resource('networking.istio.io/v1', 'Sidecar');
const authorizationPolicy = resource('security.istio.io/v1', 'AuthorizationPolicy');
const peerAuthentication = resource('security.istio.io/v1', 'PeerAuthentication');
const kubernetesService = resource('v1', 'Service');
const telemetry = resource('telemetry.istio.io/v1', 'Telemetry');

const route = (host: string, extra: object = {}) => ({ destination: { host, ...extra } });
const ingressGateway = (name: string, metadata: Metadata = {}) =>
  gateway(
    name,
    {
      selector: { istio: 'ingressgateway' },
      servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
    },
    metadata,
  );

/**
 * Parses objects and fails on any parse error: a resource dropped by the parser would make a
 * "does not fire" test pass for the wrong reason.
 */
function parse(objects: readonly unknown[]): Resource[] {
  const { resources, issues } = parseConfigObjects(objects);
  const errors = issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
  return [...resources];
}

function findings(objects: readonly unknown[], code: string, options: AnalyzeOptions = {}): ConfigIssue[] {
  return analyze(parse(objects), options).filter((issue) => issue.code === code);
}

const BUILTIN_CODES = [
  'authorization-bypass-prone',
  'conflicting-destination-rules',
  'conflicting-virtual-services',
  'cross-namespace-host-claim',
  'destination-host-not-found',
  'destination-port-not-found',
  'gateway-not-found',
  'mtls-conflict',
  'route-shadowed',
  'selector-matches-nothing',
  'service-entry-host-shadowed',
  'subset-not-defined',
  'subset-selects-nothing',
  'telemetry-tag-expression',
  'unsupported-field',
  'virtual-service-host-not-found',
  'weights-not-100',
];

describe('analyze()', () => {
  it('registers exactly the built-in checks this file covers', () => {
    expect(
      analysisChecks()
        .map((check) => check.code)
        .sort(),
    ).toEqual(BUILTIN_CODES);
  });

  it('finds no error in Bookinfo (services, all DestinationRules, all-v1 routes) with its workloads', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all.yaml',
      'virtual-service-all-v1.yaml',
    );
    const issues = analyze(resources, { registry });
    expect(issues.filter((issue) => issue.severity === 'error')).toEqual([]);
    // The only warnings are about subsets whose version has no registered workload.
    expect(issues.map((issue) => [issue.code, issue.resource, issue.path])).toEqual([
      ['subset-selects-nothing', 'DestinationRule/default/details', 'spec.subsets[1].labels'],
      ['subset-selects-nothing', 'DestinationRule/default/ratings', 'spec.subsets[1].labels'],
      ['subset-selects-nothing', 'DestinationRule/default/ratings', 'spec.subsets[2].labels'],
      ['subset-selects-nothing', 'DestinationRule/default/ratings', 'spec.subsets[3].labels'],
    ]);
  });

  // weights-not-100 (a warning) runs before gateway-not-found (an error), so only the sort puts
  // the error first.
  const warningThenError = [
    virtualService('split', {
      hosts: ['reviews'],
      http: [
        {
          route: [
            { ...route('reviews'), weight: 50 },
            { ...route('ratings'), weight: 10 },
          ],
        },
      ],
    }),
    virtualService('edge', {
      hosts: ['bookinfo.example.com'],
      gateways: ['missing'],
      http: [{ route: [route('reviews')] }],
    }),
  ];

  it('returns errors before warnings', () => {
    const issues = analyze(parse(warningThenError));
    expect(issues.map((issue) => [issue.severity, issue.code])).toEqual([
      ['error', 'gateway-not-found'],
      ['warning', 'weights-not-100'],
    ]);
  });

  it('leaves out the codes named in suppress, and only those', () => {
    const issues = analyze(parse(warningThenError), { suppress: ['weights-not-100'] });
    expect(issues.map((issue) => issue.code)).toEqual(['gateway-not-found']);
  });

  it('points each finding at the file and line of the resource it names', () => {
    const text = [
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata:',
      '  name: ok',
      'spec:',
      '  hosts: [ratings]',
      '  http:',
      '  - route:',
      '    - destination: {host: ratings}',
      '---',
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata:',
      '  name: reviews',
      'spec:',
      '  hosts: [reviews]',
      '  http:',
      '  - route:',
      '    - destination: {host: reviews, subset: v9}',
      '',
    ].join('\n');
    const parsed = parseConfig(text, { file: 'routes.yaml' });
    expect(parsed.issues).toEqual([]);
    expect(analyze(parsed.resources)).toEqual([
      expect.objectContaining({
        code: 'subset-not-defined',
        resource: 'VirtualService/default/reviews',
        location: expect.objectContaining({ file: 'routes.yaml', line: 11 }),
      }),
    ]);
  });

  it('keeps the checks that need workloads quiet when no registry is given', () => {
    const objects = [
      destinationRule('reviews', { host: 'reviews', subsets: [{ name: 'v9', labels: { version: 'v9' } }] }),
      virtualService('ghost', { hosts: ['ghost'], http: [{ route: [route('nowhere')] }] }),
      authorizationPolicy('nobody', { selector: { matchLabels: { app: 'nobody' } }, rules: [{}] }),
    ];
    const needWorkloads = [
      'subset-selects-nothing',
      'destination-host-not-found',
      'virtual-service-host-not-found',
      'selector-matches-nothing',
    ];
    const codesWith = (options: AnalyzeOptions) =>
      analyze(parse(objects), options)
        .map((issue) => issue.code)
        .filter((code) => needWorkloads.includes(code))
        .sort();
    expect(codesWith({})).toEqual([]);
    // The same config with workloads triggers all four, so the quiet result above is not vacuous.
    expect(codesWith({ registry })).toEqual([...needWorkloads].sort());
  });
});

describe('subset-not-defined', () => {
  const routeToSubset = (subset: string) =>
    virtualService('reviews', { hosts: ['reviews'], http: [{ route: [route('reviews', { subset })] }] });
  const rule = destinationRule('reviews', {
    host: 'reviews',
    subsets: [{ name: 'v1', labels: { version: 'v1' } }],
  });

  it('is an error at the route subset when no DestinationRule for the host defines it', () => {
    expect(findings([rule, routeToSubset('v2')], 'subset-not-defined')).toEqual([
      {
        severity: 'error',
        code: 'subset-not-defined',
        resource: 'VirtualService/default/reviews',
        path: 'spec.http[0].route[0].destination.subset',
        message: expect.stringContaining(
          'no DestinationRule for "reviews.default.svc.cluster.local" defines subset "v2"',
        ),
        location: expect.anything(),
      },
    ]);
    expect(findings([rule, routeToSubset('v2')], 'subset-not-defined')[0]?.message).toContain(
      "add the subset to the host's DestinationRule",
    );
  });

  it('reports a mirror to an undefined subset at the mirror', () => {
    const mirrored = virtualService('reviews', {
      hosts: ['reviews'],
      http: [{ route: [route('reviews', { subset: 'v1' })], mirror: { host: 'reviews', subset: 'v3' } }],
    });
    expect(findings([rule, mirrored], 'subset-not-defined').map((issue) => issue.path)).toEqual([
      'spec.http[0].mirror.subset',
    ]);
  });

  it('does not fire when the host DestinationRule defines the subset', () => {
    expect(findings([rule, routeToSubset('v1')], 'subset-not-defined')).toEqual([]);
  });

  it('does not fire when a wildcard DestinationRule host covers the route host', () => {
    const wildcard = destinationRule('all', {
      host: '*.default.svc.cluster.local',
      subsets: [{ name: 'v2', labels: { version: 'v2' } }],
    });
    expect(findings([wildcard, routeToSubset('v2')], 'subset-not-defined')).toEqual([]);
  });

  it('fires when only a DestinationRule for another host defines the subset', () => {
    const other = destinationRule('ratings', {
      host: 'ratings',
      subsets: [{ name: 'v2', labels: { version: 'v2' } }],
    });
    expect(findings([other, routeToSubset('v2')], 'subset-not-defined')).toHaveLength(1);
  });
});

describe('subset-selects-nothing', () => {
  const rule = (version: string) =>
    destinationRule('reviews', {
      host: 'reviews',
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'canary', labels: { version } },
      ],
    });

  it('warns at the subset labels when no workload of the host has them', () => {
    expect(findings([rule('v9')], 'subset-selects-nothing', { registry })).toEqual([
      {
        severity: 'warning',
        code: 'subset-selects-nothing',
        resource: 'DestinationRule/default/reviews',
        path: 'spec.subsets[1].labels',
        message: expect.stringContaining(
          'subset "canary" selects no workload of "reviews.default.svc.cluster.local" (labels version=v9)',
        ),
        location: expect.anything(),
      },
    ]);
  });

  it('does not fire when a workload of the host has the labels', () => {
    expect(findings([rule('v3')], 'subset-selects-nothing', { registry })).toEqual([]);
  });

  it('fires when only a workload of another service has the labels', () => {
    // ratings has a v1 workload but no v2 one; reviews' v2 must not count for it.
    const ratings = destinationRule('ratings', {
      host: 'ratings',
      subsets: [{ name: 'v2', labels: { version: 'v2' } }],
    });
    expect(
      findings([ratings], 'subset-selects-nothing', { registry }).map((issue) => issue.resource),
    ).toEqual(['DestinationRule/default/ratings']);
  });

  it('stays quiet without a registry', () => {
    expect(findings([rule('v9')], 'subset-selects-nothing')).toEqual([]);
  });
});

describe('destination-host-not-found', () => {
  const routeTo = (host: string) =>
    virtualService('reviews', { hosts: ['reviews'], http: [{ route: [route(host)] }] });

  it('warns at the destination host when no service or ServiceEntry defines it', () => {
    expect(findings([routeTo('reveiws')], 'destination-host-not-found', { registry })).toEqual([
      {
        severity: 'warning',
        code: 'destination-host-not-found',
        resource: 'VirtualService/default/reviews',
        path: 'spec.http[0].route[0].destination.host',
        message: expect.stringContaining(
          'no service or ServiceEntry defines host "reveiws.default.svc.cluster.local"',
        ),
        location: expect.anything(),
      },
    ]);
    expect(findings([routeTo('reveiws')], 'destination-host-not-found', { registry })[0]?.message).toMatch(
      /fix the host name, or add a ServiceEntry/,
    );
  });

  it('checks mirror destinations too', () => {
    const mirrored = virtualService('reviews', {
      hosts: ['reviews'],
      http: [{ route: [route('reviews')], mirror: { host: 'shadow' } }],
    });
    expect(
      findings([mirrored], 'destination-host-not-found', { registry }).map((issue) => issue.path),
    ).toEqual(['spec.http[0].mirror.host']);
  });

  it('does not fire for a registered service', () => {
    expect(findings([routeTo('reviews')], 'destination-host-not-found', { registry })).toEqual([]);
  });

  it('does not fire for a host a wildcard ServiceEntry covers', () => {
    const external = serviceEntry('external', {
      hosts: ['*.example.com'],
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      resolution: 'NONE',
    });
    expect(
      findings([external, routeTo('api.example.com')], 'destination-host-not-found', { registry }),
    ).toEqual([]);
  });

  it('stays quiet without a registry', () => {
    expect(findings([routeTo('reveiws')], 'destination-host-not-found')).toEqual([]);
  });
});

describe('destination-port-not-found', () => {
  const routeToPort = (number: number) =>
    virtualService('reviews', {
      hosts: ['reviews'],
      http: [{ route: [route('reviews', { port: { number } })] }],
    });

  it('is an error at the port number when the service has no such port, listing the ports it has', () => {
    expect(findings([routeToPort(9090)], 'destination-port-not-found', { registry })).toEqual([
      {
        severity: 'error',
        code: 'destination-port-not-found',
        resource: 'VirtualService/default/reviews',
        path: 'spec.http[0].route[0].destination.port.number',
        message: '"reviews.default.svc.cluster.local" has no port 9090 (it has 9080); use one of those',
        location: expect.anything(),
      },
    ]);
  });

  it('reads the ports of a Kubernetes Service resource without a registry', () => {
    const service = kubernetesService('reviews', { ports: [{ port: 9080, name: 'http' }] });
    expect(findings([service, routeToPort(9090)], 'destination-port-not-found')).toHaveLength(1);
  });

  it('does not fire for a port the service has', () => {
    expect(findings([routeToPort(9080)], 'destination-port-not-found', { registry })).toEqual([]);
  });

  it('does not fire without a port when the service has a single port', () => {
    const noPort = virtualService('reviews', { hosts: ['reviews'], http: [{ route: [route('reviews')] }] });
    expect(findings([noPort], 'destination-port-not-found', { registry })).toEqual([]);
  });

  // The check's summary promises this, as Istio's IST0112 (VirtualServiceDestinationPortSelectorRequired)
  // reports it; the check skips every destination without a port.
  it('fires when a gateway route omits the port of a service that has several', () => {
    const service = kubernetesService('reviews', {
      ports: [
        { port: 9080, name: 'http' },
        { port: 9443, name: 'http-admin' },
      ],
    });
    const gatewayRoute = virtualService('reviews', {
      hosts: ['reviews'],
      gateways: ['ingress'],
      http: [{ route: [route('reviews')] }],
    });
    expect(findings([service, gatewayRoute], 'destination-port-not-found')).toEqual([
      expect.objectContaining({
        severity: 'error',
        resource: 'VirtualService/default/reviews',
        path: 'spec.http[0].route[0].destination.port',
        message: expect.stringMatching(/9080, 9443/),
      }),
    ]);
  });

  it("stays quiet when a sidecar route omits the port, since the caller's port is used", () => {
    const service = kubernetesService('reviews', {
      ports: [
        { port: 9080, name: 'http' },
        { port: 9443, name: 'http-admin' },
      ],
    });
    const sidecarRoute = virtualService('reviews', {
      hosts: ['reviews'],
      http: [{ route: [route('reviews')] }],
    });
    expect(findings([service, sidecarRoute], 'destination-port-not-found')).toEqual([]);
  });
});

describe('virtual-service-host-not-found', () => {
  const claiming = (host: string, spec: object = {}) =>
    virtualService('routes', { hosts: [host], http: [{ route: [route('reviews')] }], ...spec });

  it('warns at the host when no service or ServiceEntry defines it', () => {
    expect(findings([claiming('reveiws')], 'virtual-service-host-not-found', { registry })).toEqual([
      {
        severity: 'warning',
        code: 'virtual-service-host-not-found',
        resource: 'VirtualService/default/routes',
        path: 'spec.hosts[0]',
        message: expect.stringContaining(
          'no service or ServiceEntry defines host "reveiws.default.svc.cluster.local"',
        ),
        location: expect.anything(),
      },
    ]);
    expect(
      findings([claiming('reveiws')], 'virtual-service-host-not-found', { registry })[0]?.message,
    ).toMatch(/fix the host, or add a ServiceEntry/);
  });

  it('does not fire for a registered service', () => {
    expect(findings([claiming('reviews')], 'virtual-service-host-not-found', { registry })).toEqual([]);
  });

  it('does not fire for a VirtualService bound only to a Gateway (its hosts are external names)', () => {
    const edge = claiming('bookinfo.example.com', { gateways: ['edge'] });
    expect(findings([ingressGateway('edge'), edge], 'virtual-service-host-not-found', { registry })).toEqual(
      [],
    );
    // Bound to the mesh as well, the same host is checked.
    const both = claiming('bookinfo.example.com', { gateways: ['edge', 'mesh'] });
    expect(
      findings([ingressGateway('edge'), both], 'virtual-service-host-not-found', { registry }),
    ).toHaveLength(1);
  });

  it('stays quiet without a registry', () => {
    expect(findings([claiming('reveiws')], 'virtual-service-host-not-found')).toEqual([]);
  });
});

describe('route-shadowed', () => {
  const catchAllFirst = virtualService('reviews', {
    hosts: ['reviews'],
    http: [
      { route: [route('reviews', { subset: 'v1' })] },
      {
        match: [{ headers: { 'end-user': { exact: 'jason' } } }],
        route: [route('reviews', { subset: 'v2' })],
      },
    ],
  });

  it('warns at every route after one with no match', () => {
    expect(findings([catchAllFirst], 'route-shadowed')).toEqual([
      {
        severity: 'warning',
        code: 'route-shadowed',
        resource: 'VirtualService/default/reviews',
        path: 'spec.http[1]',
        message: expect.stringContaining('never matches: route 0 before it matches every request'),
        location: expect.anything(),
      },
    ]);
    expect(findings([catchAllFirst], 'route-shadowed')[0]?.message).toContain(
      'move this route above it, or give route 0 a match',
    );
  });

  it('does not fire when the catch-all route comes last', () => {
    const catchAllLast = virtualService('reviews', {
      hosts: ['reviews'],
      http: [
        {
          match: [{ headers: { 'end-user': { exact: 'jason' } } }],
          route: [route('reviews', { subset: 'v2' })],
        },
        { route: [route('reviews', { subset: 'v1' })] },
      ],
    });
    expect(findings([catchAllLast], 'route-shadowed')).toEqual([]);
  });

  it('treats a match list with an empty block as matching everything', () => {
    const emptyBlock = virtualService('reviews', {
      hosts: ['reviews'],
      http: [
        { match: [{ uri: { prefix: '/api' } }, {}], route: [route('reviews')] },
        { route: [route('reviews')] },
      ],
    });
    expect(findings([emptyBlock], 'route-shadowed').map((issue) => issue.path)).toEqual(['spec.http[1]']);
  });

  // `name` only labels a match for access logs (Istio's HTTPMatchRequest.name); a block with
  // nothing else still matches every request.
  it('treats a match block that only has a name as matching everything', () => {
    const namedCatchAll = virtualService('reviews', {
      hosts: ['reviews'],
      http: [
        { match: [{ name: 'everything' }], route: [route('reviews')] },
        { match: [{ uri: { prefix: '/api' } }], route: [route('reviews')] },
      ],
    });
    expect(findings([namedCatchAll], 'route-shadowed').map((issue) => issue.path)).toEqual(['spec.http[1]']);
  });

  const older = { creationTimestamp: '2024-01-01T00:00:00Z' };
  const newer = { creationTimestamp: '2024-06-01T00:00:00Z' };

  it('warns at all routes of a newer VirtualService for a host an older one ends with a catch-all for', () => {
    const first = virtualService(
      'reviews-a',
      { hosts: ['reviews'], http: [{ route: [route('reviews')] }] },
      newer,
    );
    const second = virtualService(
      'reviews-b',
      { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/v2' } }], route: [route('reviews')] }] },
      older,
    );
    // reviews-b comes first by creationTimestamp (its name sorts later) and has no catch-all, so
    // nothing is shadowed; ordering by name would wrongly report reviews-b.
    expect(findings([first, second], 'route-shadowed')).toEqual([]);
    const catchAllOlder = virtualService(
      'reviews-b',
      { hosts: ['reviews'], http: [{ route: [route('reviews')] }] },
      older,
    );
    const specificNewer = virtualService(
      'reviews-a',
      { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/v2' } }], route: [route('reviews')] }] },
      newer,
    );
    expect(findings([specificNewer, catchAllOlder], 'route-shadowed')).toEqual([
      {
        severity: 'warning',
        code: 'route-shadowed',
        resource: 'VirtualService/default/reviews-a',
        path: 'spec.http',
        message: expect.stringContaining(
          'every route here is shadowed: VirtualService/default/reviews-b comes first in resource order',
        ),
        location: expect.anything(),
      },
    ]);
  });

  // Sidecars only merge VirtualServices bound to the mesh; a Gateway-only one never sits in
  // front of a mesh one (the routing view skips it too).
  it('does not treat a Gateway-only catch-all as shadowing a mesh VirtualService for the same host', () => {
    const edge = virtualService(
      'edge',
      { hosts: ['reviews'], gateways: ['edge'], http: [{ route: [route('reviews')] }] },
      older,
    );
    const mesh = virtualService(
      'mesh',
      { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/v2' } }], route: [route('reviews')] }] },
      newer,
    );
    expect(findings([ingressGateway('edge'), edge, mesh], 'route-shadowed')).toEqual([]);
  });
});

describe('weights-not-100', () => {
  const split = (...weights: number[]) =>
    virtualService('reviews', {
      hosts: ['reviews'],
      http: [
        { match: [{ uri: { prefix: '/a' } }], route: [route('reviews')] },
        {
          route: weights.map((weight, index) => ({
            ...route('reviews', { subset: `v${index + 1}` }),
            weight,
          })),
        },
      ],
    });

  it('warns at the route when the weights do not add up to 100', () => {
    expect(findings([split(50, 40)], 'weights-not-100')).toEqual([
      {
        severity: 'warning',
        code: 'weights-not-100',
        resource: 'VirtualService/default/reviews',
        path: 'spec.http[1].route',
        message: expect.stringContaining('weights add up to 90, not 100'),
        location: expect.anything(),
      },
    ]);
    expect(findings([split(50, 40)], 'weights-not-100')[0]?.message).toContain('set them to add up to 100');
  });

  it('warns when they add up to more than 100', () => {
    expect(findings([split(80, 80)], 'weights-not-100')[0]?.message).toContain('add up to 160');
  });

  it('does not fire when the weights add up to 100', () => {
    expect(findings([split(50, 50)], 'weights-not-100')).toEqual([]);
    expect(findings([split(100, 0)], 'weights-not-100')).toEqual([]);
  });

  it('does not fire for a single destination without a weight', () => {
    const single = virtualService('reviews', { hosts: ['reviews'], http: [{ route: [route('reviews')] }] });
    expect(findings([single], 'weights-not-100')).toEqual([]);
  });
});

describe('conflicting-virtual-services', () => {
  const claim = (name: string, spec: object = {}) =>
    virtualService(name, { hosts: ['reviews'], http: [{ route: [route('reviews')] }], ...spec });

  it('warns at the host of the later VirtualService claiming a host for sidecars', () => {
    expect(findings([claim('reviews-b'), claim('reviews-a')], 'conflicting-virtual-services')).toEqual([
      {
        severity: 'warning',
        code: 'conflicting-virtual-services',
        resource: 'VirtualService/default/reviews-b',
        path: 'spec.hosts[0]',
        message: expect.stringContaining(
          'VirtualService/default/reviews-a also claims "reviews.default.svc.cluster.local"',
        ),
        location: expect.anything(),
      },
    ]);
    expect(
      findings([claim('reviews-b'), claim('reviews-a')], 'conflicting-virtual-services')[0]?.message,
    ).toContain('keep one VirtualService per host');
  });

  it('does not fire for VirtualServices of different hosts', () => {
    const ratings = virtualService('ratings', { hosts: ['ratings'], http: [{ route: [route('ratings')] }] });
    expect(findings([claim('reviews'), ratings], 'conflicting-virtual-services')).toEqual([]);
  });

  it('does not count a VirtualService bound only to a Gateway', () => {
    const edge = claim('edge', { gateways: ['edge'] });
    expect(
      findings([ingressGateway('edge'), claim('reviews'), edge], 'conflicting-virtual-services'),
    ).toEqual([]);
  });
});

describe('conflicting-destination-rules', () => {
  const rule = (name: string, spec: object, metadata: Metadata = {}) =>
    destinationRule(name, { host: 'reviews', ...spec }, metadata);
  const policy = { trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } };
  const v1 = { subsets: [{ name: 'v1', labels: { version: 'v1' } }] };

  it('warns at what the newer DestinationRule for the same host sets again', () => {
    const older = rule('reviews-b', { ...policy, ...v1 }, { creationTimestamp: '2024-01-01T00:00:00Z' });
    const newer = rule('reviews-a', { ...policy, ...v1 }, { creationTimestamp: '2024-06-01T00:00:00Z' });
    expect(findings([newer, older], 'conflicting-destination-rules')).toEqual([
      {
        severity: 'warning',
        code: 'conflicting-destination-rules',
        resource: 'DestinationRule/default/reviews-a',
        path: 'spec.trafficPolicy',
        message: expect.stringContaining(
          'DestinationRule/default/reviews-b comes first in resource order and already sets the top-level trafficPolicy',
        ),
        location: expect.anything(),
      },
      {
        severity: 'warning',
        code: 'conflicting-destination-rules',
        resource: 'DestinationRule/default/reviews-a',
        path: 'spec.subsets[0]',
        message: expect.stringContaining('already defines subset "v1"'),
        location: expect.anything(),
      },
    ]);
  });

  it('does not fire when the rules split subsets and one traffic policy between them', () => {
    const v2 = { subsets: [{ name: 'v2', labels: { version: 'v2' } }] };
    expect(
      findings(
        [rule('reviews-a', { ...policy, ...v1 }), rule('reviews-b', v2)],
        'conflicting-destination-rules',
      ),
    ).toEqual([]);
  });

  it('does not fire for the same host in different namespaces', () => {
    const here = rule('reviews', { host: 'reviews.default.svc.cluster.local', ...policy, ...v1 });
    const there = rule(
      'reviews',
      { host: 'reviews.default.svc.cluster.local', ...policy, ...v1 },
      { namespace: 'other' },
    );
    expect(findings([here, there], 'conflicting-destination-rules')).toEqual([]);
  });

  it('does not count a DestinationRule with a workloadSelector', () => {
    const scoped = rule('reviews-scoped', {
      ...policy,
      ...v1,
      workloadSelector: { matchLabels: { app: 'productpage' } },
    });
    expect(
      findings([rule('reviews', { ...policy, ...v1 }), scoped], 'conflicting-destination-rules'),
    ).toEqual([]);
  });
});

describe('service-entry-host-shadowed', () => {
  const entry = (name: string, host: string) =>
    serviceEntry(name, {
      hosts: [host],
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      resolution: 'DNS',
      location: 'MESH_EXTERNAL',
    });

  it('warns at the host of a later ServiceEntry for a host an earlier one defines', () => {
    expect(
      findings(
        [entry('second', 'api.example.com'), entry('first', 'api.example.com')],
        'service-entry-host-shadowed',
      ),
    ).toEqual([
      {
        severity: 'warning',
        code: 'service-entry-host-shadowed',
        resource: 'ServiceEntry/default/second',
        path: 'spec.hosts[0]',
        message: expect.stringContaining(
          'ignored: "api.example.com" is already defined by ServiceEntry/default/first',
        ),
        location: expect.anything(),
      },
    ]);
  });

  it('names the mesh service when a registry service has the host', () => {
    const issues = findings(
      [entry('reviews', 'reviews.default.svc.cluster.local')],
      'service-entry-host-shadowed',
      {
        registry,
      },
    );
    expect(issues.map((issue) => issue.message)).toEqual([
      'ignored: "reviews.default.svc.cluster.local" is already defined by the mesh service in namespace "default"; remove this host, or merge the entries',
    ]);
  });

  it('does not fire for ServiceEntries of different hosts', () => {
    expect(
      findings(
        [entry('a', 'api.example.com'), entry('b', 'auth.example.com')],
        'service-entry-host-shadowed',
        {
          registry,
        },
      ),
    ).toEqual([]);
  });
});

describe('gateway-not-found', () => {
  const bound = (gateways: string[], metadata: Metadata = {}) =>
    virtualService(
      'edge',
      { hosts: ['bookinfo.example.com'], gateways, http: [{ route: [route('productpage')] }] },
      metadata,
    );

  it('is an error at the gateways entry naming a Gateway that does not exist', () => {
    expect(findings([bound(['mesh', 'edge'])], 'gateway-not-found')).toEqual([
      {
        severity: 'error',
        code: 'gateway-not-found',
        resource: 'VirtualService/default/edge',
        path: 'spec.gateways[1]',
        message: expect.stringContaining('no Gateway "default/edge" exists'),
        location: expect.anything(),
      },
    ]);
    expect(findings([bound(['edge'])], 'gateway-not-found')[0]?.message).toContain(
      'create the Gateway, or fix the name',
    );
  });

  it('does not fire when the Gateway exists in the VirtualService namespace', () => {
    expect(findings([ingressGateway('edge'), bound(['edge'])], 'gateway-not-found')).toEqual([]);
  });

  it('resolves namespace/name in the named namespace, and a bare name in the VirtualService one', () => {
    const inIstioSystem = ingressGateway('edge', { namespace: 'istio-system' });
    expect(findings([inIstioSystem, bound(['istio-system/edge'])], 'gateway-not-found')).toEqual([]);
    expect(
      findings([inIstioSystem, bound(['edge'])], 'gateway-not-found').map((issue) => issue.message),
    ).toEqual([expect.stringContaining('no Gateway "default/edge" exists')]);
  });

  it('checks gateways named in match blocks', () => {
    const byMatch = virtualService('edge', {
      hosts: ['reviews'],
      http: [{ match: [{ gateways: ['edge'] }], route: [route('reviews')] }, { route: [route('reviews')] }],
    });
    expect(findings([byMatch], 'gateway-not-found').map((issue) => issue.path)).toEqual([
      'spec.http[0].match[0].gateways[0]',
    ]);
  });
});

describe('mtls-conflict', () => {
  const strictForV1 = peerAuthentication('reviews-v1-strict', {
    selector: { matchLabels: { app: 'reviews', version: 'v1' } },
    mtls: { mode: 'STRICT' },
  });
  const rule = (subset: string, mode: string) =>
    destinationRule('reviews', {
      host: 'reviews',
      subsets: [{ name: subset, labels: { version: subset }, trafficPolicy: { tls: { mode } } }],
    });

  it('is an error at a subset tls mode that disables mTLS to STRICT workloads', () => {
    expect(findings([strictForV1, rule('v1', 'DISABLE')], 'mtls-conflict', { registry })).toEqual([
      {
        severity: 'error',
        code: 'mtls-conflict',
        resource: 'DestinationRule/default/reviews',
        path: 'spec.subsets[0].trafficPolicy.tls.mode',
        message: expect.stringContaining(
          'tls mode DISABLE sends traffic to "reviews.default.svc.cluster.local" without mesh mTLS',
        ),
        location: expect.anything(),
      },
    ]);
    expect(
      findings([strictForV1, rule('v1', 'DISABLE')], 'mtls-conflict', { registry })[0]?.message,
    ).toContain('use ISTIO_MUTUAL, remove the tls setting, or relax that PeerAuthentication');
  });

  it('checks the top-level tls mode against every workload of the host', () => {
    const topLevel = destinationRule('reviews', {
      host: 'reviews',
      trafficPolicy: { tls: { mode: 'DISABLE' } },
    });
    expect(
      findings([strictForV1, topLevel], 'mtls-conflict', { registry }).map((issue) => issue.path),
    ).toEqual(['spec.trafficPolicy.tls.mode']);
  });

  it('does not fire for a subset whose workloads are not STRICT', () => {
    expect(findings([strictForV1, rule('v2', 'DISABLE')], 'mtls-conflict', { registry })).toEqual([]);
  });

  it('does not fire for ISTIO_MUTUAL', () => {
    expect(findings([strictForV1, rule('v1', 'ISTIO_MUTUAL')], 'mtls-conflict', { registry })).toEqual([]);
  });

  it('does not fire when the workloads are PERMISSIVE', () => {
    const permissive = peerAuthentication('reviews-v1', {
      selector: { matchLabels: { app: 'reviews', version: 'v1' } },
      mtls: { mode: 'PERMISSIVE' },
    });
    expect(findings([permissive, rule('v1', 'DISABLE')], 'mtls-conflict', { registry })).toEqual([]);
  });
});

describe('cross-namespace-host-claim', () => {
  const foreign = virtualService(
    'reviews',
    {
      hosts: ['reviews.default.svc.cluster.local'],
      http: [{ route: [route('reviews.default.svc.cluster.local')] }],
    },
    { namespace: 'team-b' },
  );

  it("warns at a host owned by another namespace that the routes apply to the VirtualService's own namespace only", () => {
    expect(findings([foreign], 'cross-namespace-host-claim', { registry })).toEqual([
      {
        severity: 'warning',
        code: 'cross-namespace-host-claim',
        resource: 'VirtualService/team-b/reviews',
        path: 'spec.hosts[0]',
        message: expect.stringContaining(
          '"reviews.default.svc.cluster.local" belongs to namespace "default", so these routes apply only to callers in "team-b"',
        ),
        location: expect.anything(),
      },
    ]);
    expect(findings([foreign], 'cross-namespace-host-claim', { registry })[0]?.message).toContain(
      'put the VirtualService in "default"',
    );
  });

  it('does not fire for a VirtualService in the namespace that owns the host', () => {
    const own = virtualService('reviews', { hosts: ['reviews'], http: [{ route: [route('reviews')] }] });
    expect(findings([own], 'cross-namespace-host-claim', { registry })).toEqual([]);
  });

  it('does not fire when cross-namespace claims apply mesh-wide', () => {
    expect(
      findings([foreign], 'cross-namespace-host-claim', { registry, crossNamespaceHostClaims: 'mesh-wide' }),
    ).toEqual([]);
  });
});

describe('selector-matches-nothing', () => {
  const policy = (labels: Record<string, string>, namespace = 'default') =>
    authorizationPolicy('allow-reviews', { selector: { matchLabels: labels }, rules: [{}] }, { namespace });

  it('warns at the selector labels when no workload in the namespace has them', () => {
    expect(findings([policy({ app: 'reveiws' })], 'selector-matches-nothing', { registry })).toEqual([
      {
        severity: 'warning',
        code: 'selector-matches-nothing',
        resource: 'AuthorizationPolicy/default/allow-reviews',
        path: 'spec.selector.matchLabels',
        message: expect.stringContaining('selects no workload in namespace "default", so it has no effect'),
        location: expect.anything(),
      },
    ]);
    expect(
      findings([policy({ app: 'reveiws' })], 'selector-matches-nothing', { registry })[0]?.message,
    ).toContain("check the labels against the workloads' labels");
  });

  it('does not fire when a workload in the namespace has the labels', () => {
    expect(findings([policy({ app: 'reviews' })], 'selector-matches-nothing', { registry })).toEqual([]);
  });

  it('fires when only workloads in another namespace have the labels', () => {
    expect(
      findings([policy({ app: 'reviews' }, 'other')], 'selector-matches-nothing', { registry }).map(
        (issue) => issue.resource,
      ),
    ).toEqual(['AuthorizationPolicy/other/allow-reviews']);
  });

  it('checks a Sidecar workloadSelector at its labels', () => {
    const scoped = (app: string) =>
      sidecar('scoped', { workloadSelector: { labels: { app } }, egress: [{ hosts: ['./*'] }] });
    expect(
      findings([scoped('nobody')], 'selector-matches-nothing', { registry }).map((issue) => issue.path),
    ).toEqual(['spec.workloadSelector.labels']);
    expect(findings([scoped('reviews')], 'selector-matches-nothing', { registry })).toEqual([]);
  });

  it('stays quiet without a registry', () => {
    expect(findings([policy({ app: 'reveiws' })], 'selector-matches-nothing')).toEqual([]);
  });
});

describe('authorization-bypass-prone', () => {
  const policy = (action: string, operation: object) =>
    authorizationPolicy('admin', {
      selector: { matchLabels: { app: 'productpage' } },
      action,
      rules: [{ to: [{ operation: { methods: ['GET'] } }, { operation }] }],
    });

  it('warns at the paths of a DENY rule', () => {
    expect(findings([policy('DENY', { paths: ['/admin'] })], 'authorization-bypass-prone')).toEqual([
      {
        severity: 'warning',
        code: 'authorization-bypass-prone',
        resource: 'AuthorizationPolicy/default/admin',
        path: 'spec.rules[0].to[1].operation.paths',
        message: expect.stringContaining('DENY with paths fails open'),
        location: expect.anything(),
      },
    ]);
    expect(
      findings([policy('DENY', { paths: ['/admin'] })], 'authorization-bypass-prone')[0]?.message,
    ).toContain('prefer an ALLOW policy with notPaths');
  });

  it('warns at the notPaths of an ALLOW rule', () => {
    const issues = findings([policy('ALLOW', { notPaths: ['/admin'] })], 'authorization-bypass-prone');
    expect(issues.map((issue) => [issue.path, issue.message])).toEqual([
      ['spec.rules[0].to[1].operation.notPaths', expect.stringContaining('prefer a DENY policy with paths')],
    ]);
  });

  it('does not fire for the safer patterns: DENY with notPaths, ALLOW with paths', () => {
    expect(findings([policy('DENY', { notPaths: ['/public'] })], 'authorization-bypass-prone')).toEqual([]);
    expect(findings([policy('ALLOW', { paths: ['/public'] })], 'authorization-bypass-prone')).toEqual([]);
  });
});

describe('unsupported-field', () => {
  const withCors = (corsPolicy: object | undefined) =>
    virtualService('reviews', {
      hosts: ['reviews'],
      http: [
        { match: [{ uri: { prefix: '/a' } }], route: [route('reviews')] },
        { route: [route('reviews')], ...(corsPolicy === undefined ? {} : { corsPolicy }) },
      ],
    });

  it('warns at a field Weft accepts but does not apply', () => {
    const cors = withCors({ allowOrigins: [{ exact: 'https://bookinfo.example.com' }] });
    expect(findings([cors], 'unsupported-field')).toEqual([
      {
        severity: 'warning',
        code: 'unsupported-field',
        resource: 'VirtualService/default/reviews',
        path: 'spec.http[1].corsPolicy',
        message: expect.stringContaining(
          'not supported by Weft and ignored: CORS is left to the application',
        ),
        location: expect.anything(),
      },
    ]);
    expect(findings([cors], 'unsupported-field')[0]?.message).toContain('remove it, or expect no effect');
  });

  it('does not fire when no unsupported field is set', () => {
    expect(findings([withCors(undefined)], 'unsupported-field')).toEqual([]);
  });
});

describe('telemetry-tag-expression', () => {
  const withTag = (value: string) =>
    telemetry('tags', {
      metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT' }, tagOverrides: { tier: { value } } }] }],
    });

  it('refuses a tag override value that is a CEL expression Weft does not evaluate', () => {
    expect(findings([withTag('request.host')], 'telemetry-tag-expression')).toEqual([
      {
        severity: 'error',
        code: 'telemetry-tag-expression',
        resource: 'Telemetry/default/tags',
        path: 'spec.metrics[0].overrides[0].tagOverrides.tier.value',
        message: expect.stringContaining("a string literal ('v1') or request.headers['name']"),
        location: expect.anything(),
      },
    ]);
  });

  it('does not fire for string literals and request.headers[...]', () => {
    expect(findings([withTag("'gold'")], 'telemetry-tag-expression')).toEqual([]);
    expect(findings([withTag(`request.headers["x-tier"]`)], 'telemetry-tag-expression')).toEqual([]);
  });
});
