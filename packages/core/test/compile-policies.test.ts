/**
 * DestinationRule and inbound policy resolution, checked against Istio's reference: traffic
 * policy merging (top level, portLevelSettings, subsets), which DestinationRule a caller uses,
 * subsets and cluster names, PeerAuthentication inheritance, and the scoping of
 * AuthorizationPolicy, RequestAuthentication and Telemetry. Resources go through the parser.
 */
import { describe, expect, it } from 'vitest';
import {
  type Cluster,
  compile,
  type DestinationWorkload,
  formatConfigIssue,
  parseConfigObjects,
  pickWeighted,
  type RegisteredWorkload,
  type Resource,
  resourceKey,
  type SourceWorkload,
} from '../src/index.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';
const ROOT = 'istio-system';

/** reviews v1–v3 in `default`, each serving port 9080 (on 1908x) and port 9443 (on 2944x). */
const registry = {
  workloads: ['v1', 'v2', 'v3'].map(
    (version, index): RegisteredWorkload => ({
      name: `reviews-${version}`,
      namespace: 'default',
      service: 'reviews',
      serviceAccount: 'reviews',
      labels: { app: 'reviews', version },
      address: '127.0.0.1',
      ports: { 9080: 19081 + index, 9443: 29441 + index },
    }),
  ),
};

const PRODUCTPAGE: SourceWorkload = { namespace: 'default', labels: { app: 'productpage' } };

function load(...objects: object[]): readonly Resource[] {
  const { resources, issues } = parseConfigObjects(objects);
  const errors = issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatConfigIssue).join('\n'));
  return resources;
}

function resource(apiVersion: string, kind: string) {
  return (name: string, spec: object, metadata: object = {}) => ({
    apiVersion,
    kind,
    metadata: { name, namespace: 'default', ...metadata },
    spec,
  });
}

const destinationRule = resource('networking.istio.io/v1', 'DestinationRule');
const virtualService = resource('networking.istio.io/v1', 'VirtualService');
const peerAuthentication = resource('security.istio.io/v1', 'PeerAuthentication');
const authorizationPolicy = resource('security.istio.io/v1', 'AuthorizationPolicy');
const requestAuthentication = resource('security.istio.io/v1', 'RequestAuthentication');
const telemetry = resource('telemetry.istio.io/v1', 'Telemetry');

interface ClusterQuery {
  readonly source?: SourceWorkload;
  readonly port?: number;
  readonly subset?: string;
}

function clusterOf(
  resources: readonly Resource[],
  { source = PRODUCTPAGE, port = 9080, subset }: ClusterQuery = {},
): Cluster {
  const view = compile(resources, registry).forWorkload(source);
  const cluster = view.cluster({
    clusterName: `outbound|${port}|${subset ?? ''}|${REVIEWS}`,
    host: REVIEWS,
    port,
    ...(subset === undefined ? {} : { subset }),
    weight: 1,
  });
  if (cluster === undefined) throw new Error(`no cluster for ${REVIEWS}`);
  return cluster;
}

const RANDOM = { simple: 'RANDOM' };
const ROUND_ROBIN = { simple: 'ROUND_ROBIN' };
const LEAST_REQUEST = { simple: 'LEAST_REQUEST' };
const POOL = { tcp: { maxConnections: 10 } };
const OUTLIER = { consecutive5xxErrors: 7 };
const MUTUAL = { mode: 'ISTIO_MUTUAL' };
const SIMPLE_TLS = { mode: 'SIMPLE' };

describe('traffic policy merge', () => {
  const FULL = { loadBalancer: RANDOM, connectionPool: POOL, outlierDetection: OUTLIER, tls: MUTUAL };

  it('applies the top-level policy to every port and subset', () => {
    const resources = load(
      destinationRule('reviews', {
        host: 'reviews',
        trafficPolicy: FULL,
        subsets: [{ name: 'v1', labels: { version: 'v1' } }],
      }),
    );
    expect(clusterOf(resources).policy).toEqual(FULL);
    expect(clusterOf(resources, { port: 9443, subset: 'v1' }).policy).toEqual(FULL);
  });

  it('gives a cluster without a DestinationRule an empty policy', () => {
    const cluster = clusterOf(load());
    expect(cluster.policy).toEqual({});
    expect(cluster.destinationRules).toEqual([]);
  });

  it('lets a top-level portLevelSettings entry replace all four parts on its port, even those it leaves unset', () => {
    const resources = load(
      destinationRule('reviews', {
        host: 'reviews',
        trafficPolicy: {
          ...FULL,
          retryBudget: { minRetryConcurrency: 3 },
          portLevelSettings: [{ port: { number: 9443 }, loadBalancer: LEAST_REQUEST }],
        },
      }),
    );
    expect(clusterOf(resources, { port: 9443 }).policy).toEqual({
      loadBalancer: LEAST_REQUEST,
      retryBudget: { minRetryConcurrency: 3 },
    });
    expect(clusterOf(resources, { port: 9080 }).policy).toMatchObject(FULL);
  });

  it('lets a subset policy override the merged policy field by field', () => {
    const resources = load(
      destinationRule('reviews', {
        host: 'reviews',
        trafficPolicy: { loadBalancer: RANDOM, connectionPool: POOL },
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: ROUND_ROBIN } },
        ],
      }),
    );
    expect(clusterOf(resources, { subset: 'v2' }).policy).toEqual({
      loadBalancer: ROUND_ROBIN,
      connectionPool: POOL,
    });
    expect(clusterOf(resources, { subset: 'v1' }).policy).toEqual({
      loadBalancer: RANDOM,
      connectionPool: POOL,
    });
  });

  it('applies the top-level port settings before the subset’s fields', () => {
    const resources = load(
      destinationRule('reviews', {
        host: 'reviews',
        trafficPolicy: {
          loadBalancer: RANDOM,
          connectionPool: POOL,
          portLevelSettings: [{ port: { number: 9443 }, loadBalancer: LEAST_REQUEST }],
        },
        subsets: [{ name: 'v2', labels: { version: 'v2' }, trafficPolicy: { outlierDetection: OUTLIER } }],
      }),
    );
    expect(clusterOf(resources, { subset: 'v2', port: 9443 }).policy).toEqual({
      loadBalancer: LEAST_REQUEST,
      outlierDetection: OUTLIER,
    });
    expect(clusterOf(resources, { subset: 'v2', port: 9080 }).policy).toEqual({
      loadBalancer: RANDOM,
      connectionPool: POOL,
      outlierDetection: OUTLIER,
    });
  });

  it('lets a subset’s portLevelSettings entry replace all four parts on its port, last of all', () => {
    const resources = load(
      destinationRule('reviews', {
        host: 'reviews',
        trafficPolicy: { loadBalancer: RANDOM, connectionPool: POOL },
        subsets: [
          {
            name: 'v2',
            labels: { version: 'v2' },
            trafficPolicy: {
              loadBalancer: ROUND_ROBIN,
              portLevelSettings: [{ port: { number: 9443 }, tls: SIMPLE_TLS }],
            },
          },
        ],
      }),
    );
    expect(clusterOf(resources, { subset: 'v2', port: 9443 }).policy).toEqual({ tls: SIMPLE_TLS });
    expect(clusterOf(resources, { subset: 'v2', port: 9080 }).policy).toEqual({
      loadBalancer: ROUND_ROBIN,
      connectionPool: POOL,
    });
  });
});

describe('DestinationRule precedence', () => {
  const rule = (name: string, namespace: string, extra: object = {}) =>
    destinationRule(
      name,
      { host: REVIEWS, trafficPolicy: { loadBalancer: RANDOM }, ...extra },
      { namespace },
    );
  const special: SourceWorkload = { namespace: 'caller', labels: { app: 'special' } };
  const plain: SourceWorkload = { namespace: 'caller', labels: { app: 'plain' } };
  const elsewhere: SourceWorkload = { namespace: 'elsewhere', labels: { app: 'special' } };
  const rulesFor = (resources: readonly Resource[], source: SourceWorkload) =>
    clusterOf(resources, { source }).destinationRules;

  const all = [
    rule('root', ROOT),
    rule('service', 'default'),
    rule('local', 'caller'),
    rule('selected', 'caller', { workloadSelector: { matchLabels: { app: 'special' } } }),
  ];

  it('prefers a rule in the caller’s namespace whose workloadSelector selects the caller', () => {
    expect(rulesFor(load(...all), special)).toEqual(['DestinationRule/caller/selected']);
  });

  it('then the caller namespace’s rule without a selector', () => {
    expect(rulesFor(load(...all), plain)).toEqual(['DestinationRule/caller/local']);
  });

  it('then the rule in the service’s namespace', () => {
    expect(rulesFor(load(...all), elsewhere)).toEqual(['DestinationRule/default/service']);
  });

  it('then the rule in the root namespace', () => {
    expect(rulesFor(load(rule('root', ROOT), rule('local', 'caller')), elsewhere)).toEqual([
      'DestinationRule/istio-system/root',
    ]);
  });

  it('never applies a workloadSelector across namespaces', () => {
    const resources = load(
      rule('service', 'default'),
      rule('service-selected', 'default', { workloadSelector: { matchLabels: { app: 'special' } } }),
    );
    expect(rulesFor(resources, elsewhere)).toEqual(['DestinationRule/default/service']);
    expect(rulesFor(resources, { namespace: 'default', labels: { app: 'special' } })).toEqual([
      'DestinationRule/default/service-selected',
    ]);
    expect(rulesFor(resources, PRODUCTPAGE)).toEqual(['DestinationRule/default/service']);
  });

  it('skips a service-namespace rule not exported to the caller and falls back to the root', () => {
    const resources = load(rule('root', ROOT), rule('service', 'default', { exportTo: ['.'] }));
    expect(rulesFor(resources, elsewhere)).toEqual(['DestinationRule/istio-system/root']);
    expect(rulesFor(resources, PRODUCTPAGE)).toEqual(['DestinationRule/default/service']);
  });

  it('uses a rule exported to the caller’s namespace by name', () => {
    const resources = load(rule('root', ROOT), rule('service', 'default', { exportTo: ['elsewhere'] }));
    expect(rulesFor(resources, elsewhere)).toEqual(['DestinationRule/default/service']);
    expect(rulesFor(resources, plain)).toEqual(['DestinationRule/istio-system/root']);
  });

  it('takes the most specific host within a namespace: exact before any wildcard', () => {
    const resources = load(
      destinationRule(
        'wild',
        { host: '*.default.svc.cluster.local', trafficPolicy: { loadBalancer: RANDOM } },
        {
          creationTimestamp: '2020-01-01T00:00:00Z',
        },
      ),
      destinationRule('exact', { host: 'reviews', trafficPolicy: { loadBalancer: ROUND_ROBIN } }),
    );
    const cluster = clusterOf(resources);
    expect(cluster.destinationRules).toEqual(['DestinationRule/default/exact']);
    expect(cluster.policy.loadBalancer).toEqual(ROUND_ROBIN);
  });

  it('takes the longest matching wildcard when no rule names the host exactly', () => {
    const resources = load(
      destinationRule(
        'short',
        { host: '*.cluster.local', trafficPolicy: { loadBalancer: RANDOM } },
        {
          creationTimestamp: '2020-01-01T00:00:00Z',
        },
      ),
      destinationRule('longer', {
        host: '*.default.svc.cluster.local',
        trafficPolicy: { loadBalancer: ROUND_ROBIN },
      }),
      destinationRule('other', { host: '*.example.com', trafficPolicy: { loadBalancer: LEAST_REQUEST } }),
    );
    expect(clusterOf(resources).destinationRules).toEqual(['DestinationRule/default/longer']);
  });

  it('ranks namespaces before host specificity: a wildcard in the caller’s namespace beats an exact rule elsewhere', () => {
    const resources = load(
      destinationRule(
        'wild',
        { host: '*.cluster.local', trafficPolicy: { loadBalancer: RANDOM } },
        {
          namespace: 'caller',
        },
      ),
      rule('service', 'default'),
    );
    expect(rulesFor(resources, plain)).toEqual(['DestinationRule/caller/wild']);
  });
});

describe('subsets and clusters', () => {
  const subsetRule = destinationRule('reviews', {
    host: 'reviews',
    subsets: [
      { name: 'v2', labels: { version: 'v2' } },
      { name: 'all', labels: { app: 'reviews' } },
      { name: 'unlabelled' },
      { name: 'nobody', labels: { app: 'reviews', version: 'v9' } },
    ],
  });
  const rules = load(subsetRule);
  const portsOf = (subset: string, port = 9080) =>
    clusterOf(rules, { subset, port }).endpoints.map((endpoint) => endpoint.port);

  it('keeps the endpoints whose labels include every subset label', () => {
    expect(portsOf('v2')).toEqual([19082]);
    expect(portsOf('all')).toEqual([19081, 19082, 19083]);
    expect(portsOf('nobody')).toEqual([]);
  });

  it('keeps every endpoint for a subset without labels', () => {
    expect(portsOf('unlabelled')).toEqual([19081, 19082, 19083]);
  });

  it('dials each endpoint on its target port for the cluster’s service port', () => {
    expect(portsOf('v2', 9443)).toEqual([29442]);
  });

  it('marks a subset no rule defines as missing, with no endpoints', () => {
    expect(clusterOf(rules, { subset: 'v7' })).toMatchObject({ missingSubset: true, endpoints: [] });
    expect(clusterOf(rules, { subset: 'v2' }).missingSubset).toBeUndefined();
  });

  it('names clusters outbound|<port>|<subset>|<host>, as Envoy does', () => {
    const resources = load(
      subsetRule,
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [
          {
            route: [
              { destination: { host: 'reviews', subset: 'v2' }, weight: 50 },
              { destination: { host: 'reviews' }, weight: 50 },
            ],
          },
        ],
      }),
    );
    const view = compile(resources, registry).forWorkload(PRODUCTPAGE);
    const route = view.routeTable(REVIEWS, 9443)?.routes[0];
    if (route === undefined) throw new Error('no route');
    const names = [0, 0.9].map((draw) => pickWeighted(route, draw)?.clusterName);
    expect(names).toEqual([`outbound|9443|v2|${REVIEWS}`, `outbound|9443||${REVIEWS}`]);
    const destination = route.destinations[0];
    expect(destination === undefined ? undefined : view.cluster(destination)?.name).toBe(
      `outbound|9443|v2|${REVIEWS}`,
    );
  });
});

describe('PeerAuthentication', () => {
  const REVIEWS_V1: DestinationWorkload = { namespace: 'default', labels: { app: 'reviews', version: 'v1' } };
  const mtlsOf = (resources: readonly Resource[], workload: DestinationWorkload = REVIEWS_V1) =>
    compile(resources, registry).inboundFor(workload).peerAuthentication;
  const mesh = (mode: string) => peerAuthentication('mesh', { mtls: { mode } }, { namespace: ROOT });
  const namespaced = (mode: string, metadata: object = {}) =>
    peerAuthentication('namespace', { mtls: { mode } }, metadata);
  const selected = (spec: object = {}, metadata: object = {}) =>
    peerAuthentication('workload', { selector: { matchLabels: { app: 'reviews' } }, ...spec }, metadata);

  it('is PERMISSIVE when no policy says anything', () => {
    const effective = mtlsOf(load());
    expect(effective.mode).toBe('PERMISSIVE');
    expect(effective.sources).toEqual([]);
    expect(effective.modeForPort(9080)).toBe('PERMISSIVE');
  });

  it('lets a workload policy override the namespace one, which overrides the mesh one', () => {
    expect(mtlsOf(load(mesh('STRICT'))).mode).toBe('STRICT');
    expect(mtlsOf(load(mesh('STRICT'), namespaced('DISABLE'))).mode).toBe('DISABLE');
    const all = mtlsOf(
      load(mesh('STRICT'), namespaced('DISABLE'), selected({ mtls: { mode: 'PERMISSIVE' } })),
    );
    expect(all.mode).toBe('PERMISSIVE');
    expect(all.sources).toEqual([
      'PeerAuthentication/istio-system/mesh',
      'PeerAuthentication/default/namespace',
      'PeerAuthentication/default/workload',
    ]);
  });

  it('lets UNSET (or no mtls at all) inherit from the level above', () => {
    expect(mtlsOf(load(mesh('STRICT'), namespaced('UNSET'))).mode).toBe('STRICT');
    expect(mtlsOf(load(mesh('DISABLE'), namespaced('STRICT'), selected())).mode).toBe('STRICT');
    expect(mtlsOf(load(namespaced('UNSET'))).mode).toBe('PERMISSIVE');
  });

  it('applies a namespace policy to its own namespace only', () => {
    const other: DestinationWorkload = { namespace: 'other', labels: { app: 'reviews' } };
    expect(mtlsOf(load(namespaced('STRICT')), other).mode).toBe('PERMISSIVE');
  });

  it('applies a workload policy only to workloads its selector matches', () => {
    const ratings: DestinationWorkload = { namespace: 'default', labels: { app: 'ratings' } };
    expect(mtlsOf(load(selected({ mtls: { mode: 'STRICT' } })), ratings).mode).toBe('PERMISSIVE');
  });

  it('ignores a root-namespace policy with a selector', () => {
    const rootSelected = peerAuthentication(
      'root-selected',
      { selector: { matchLabels: { app: 'reviews' } }, mtls: { mode: 'STRICT' } },
      { namespace: ROOT },
    );
    expect(mtlsOf(load(rootSelected)).mode).toBe('PERMISSIVE');
  });

  it('keys portLevelMtls by the workload’s own port, other ports keeping the workload mode', () => {
    const effective = mtlsOf(
      load(
        mesh('STRICT'),
        selected({ portLevelMtls: { 8080: { mode: 'DISABLE' }, 8443: { mode: 'UNSET' } } }),
      ),
    );
    expect(effective.modeForPort(8080)).toBe('DISABLE');
    expect(effective.modeForPort(8443)).toBe('STRICT');
    expect(effective.modeForPort(9080)).toBe('STRICT');
  });

  it('uses the oldest policy where several compete at one level', () => {
    const older = { creationTimestamp: '2024-01-01T00:00:00Z' };
    const newer = { creationTimestamp: '2025-01-01T00:00:00Z' };
    const namespaceLevel = load(
      peerAuthentication('newer', { mtls: { mode: 'DISABLE' } }, newer),
      peerAuthentication('older', { mtls: { mode: 'STRICT' } }, older),
    );
    expect(mtlsOf(namespaceLevel).mode).toBe('STRICT');
    expect(mtlsOf(namespaceLevel).sources).toEqual(['PeerAuthentication/default/older']);
    const workloadLevel = load(
      peerAuthentication(
        'newer',
        { selector: { matchLabels: { version: 'v1' } }, mtls: { mode: 'DISABLE' } },
        newer,
      ),
      peerAuthentication(
        'older',
        { selector: { matchLabels: { app: 'reviews' } }, mtls: { mode: 'STRICT' } },
        older,
      ),
    );
    expect(mtlsOf(workloadLevel).mode).toBe('STRICT');
  });
});

describe('inboundFor: authorization, authentication and telemetry scoping', () => {
  const REVIEWS_V1: DestinationWorkload = {
    namespace: 'default',
    labels: { app: 'reviews', version: 'v1' },
    service: 'reviews',
  };
  const inbound = (resources: readonly Resource[], workload: DestinationWorkload = REVIEWS_V1) =>
    compile(resources, registry).inboundFor(workload);
  const keys = (list: readonly Resource[]) => list.map(resourceKey);
  const ALLOW_ALL = { rules: [{}] };

  it('splits authorization policies by action, ALLOW being the default', () => {
    const { authorization } = inbound(
      load(
        authorizationPolicy('allow-implicit', ALLOW_ALL),
        authorizationPolicy('allow-explicit', { action: 'ALLOW', ...ALLOW_ALL }),
        authorizationPolicy('deny', { action: 'DENY', ...ALLOW_ALL }),
        authorizationPolicy('audit', { action: 'AUDIT', ...ALLOW_ALL }),
      ),
    );
    expect(keys(authorization.allow)).toEqual([
      'AuthorizationPolicy/default/allow-explicit',
      'AuthorizationPolicy/default/allow-implicit',
    ]);
    expect(keys(authorization.deny)).toEqual(['AuthorizationPolicy/default/deny']);
    expect(keys(authorization.audit)).toEqual(['AuthorizationPolicy/default/audit']);
    expect(authorization.custom).toEqual([]);
  });

  it('applies a root-namespace policy without selector to every workload of the mesh', () => {
    const resources = load(
      authorizationPolicy('mesh-deny', { action: 'DENY', ...ALLOW_ALL }, { namespace: ROOT }),
    );
    const elsewhere: DestinationWorkload = { namespace: 'other', labels: { app: 'x' } };
    expect(keys(inbound(resources).authorization.deny)).toEqual([
      'AuthorizationPolicy/istio-system/mesh-deny',
    ]);
    expect(keys(inbound(resources, elsewhere).authorization.deny)).toEqual([
      'AuthorizationPolicy/istio-system/mesh-deny',
    ]);
  });

  it('applies a root-namespace policy with a selector to matching workloads in every namespace', () => {
    // Istio's reference: "If the authorization policy is in the root namespace, the selector will
    // additionally match with workloads in all namespaces."
    const resources = load(
      authorizationPolicy(
        'reviews-only',
        { selector: { matchLabels: { app: 'reviews' } }, ...ALLOW_ALL },
        {
          namespace: ROOT,
        },
      ),
    );
    expect(keys(inbound(resources).authorization.allow)).toEqual([
      'AuthorizationPolicy/istio-system/reviews-only',
    ]);
    const ratings: DestinationWorkload = { namespace: 'default', labels: { app: 'ratings' } };
    expect(inbound(resources, ratings).authorization.allow).toEqual([]);
  });

  it('applies a namespace policy to its namespace only, and a selector to matching workloads only', () => {
    const resources = load(
      authorizationPolicy('namespace-wide', ALLOW_ALL),
      authorizationPolicy('v1-only', { selector: { matchLabels: { version: 'v1' } }, ...ALLOW_ALL }),
      authorizationPolicy('v2-only', { selector: { matchLabels: { version: 'v2' } }, ...ALLOW_ALL }),
      authorizationPolicy('other-namespace', ALLOW_ALL, { namespace: 'other' }),
    );
    expect(keys(inbound(resources).authorization.allow)).toEqual([
      'AuthorizationPolicy/default/namespace-wide',
      'AuthorizationPolicy/default/v1-only',
    ]);
  });

  it('applies a policy whose targetRefs name a Service to that service’s workloads only', () => {
    const resources = load(
      authorizationPolicy('to-reviews', { targetRefs: [{ kind: 'Service', name: 'reviews' }], ...ALLOW_ALL }),
      authorizationPolicy('to-ratings', { targetRef: { kind: 'Service', name: 'ratings' }, ...ALLOW_ALL }),
    );
    expect(keys(inbound(resources).authorization.allow)).toEqual(['AuthorizationPolicy/default/to-reviews']);
    expect(keys(inbound(resources, { ...REVIEWS_V1, service: 'ratings' }).authorization.allow)).toEqual([
      'AuthorizationPolicy/default/to-ratings',
    ]);
    const { service: _service, ...unnamed } = REVIEWS_V1;
    expect(inbound(resources, unnamed).authorization.allow).toEqual([]);
  });

  it('does not apply a root-namespace policy with targetRefs mesh-wide', () => {
    const resources = load(
      authorizationPolicy(
        'root-target',
        { targetRefs: [{ kind: 'Service', name: 'reviews' }], ...ALLOW_ALL },
        {
          namespace: ROOT,
        },
      ),
    );
    expect(inbound(resources).authorization.allow).toEqual([]);
  });

  it('scopes RequestAuthentication the same way: mesh, namespace, selector', () => {
    const jwt = { jwtRules: [{ issuer: 'https://issuer.example' }] };
    const resources = load(
      requestAuthentication('mesh', jwt, { namespace: ROOT }),
      requestAuthentication('namespace', jwt),
      requestAuthentication('v1', { selector: { matchLabels: { version: 'v1' } }, ...jwt }),
      requestAuthentication('v2', { selector: { matchLabels: { version: 'v2' } }, ...jwt }),
      requestAuthentication('other', jwt, { namespace: 'other' }),
    );
    expect(keys(inbound(resources).requestAuthentications)).toEqual([
      'RequestAuthentication/default/namespace',
      'RequestAuthentication/default/v1',
      'RequestAuthentication/istio-system/mesh',
    ]);
  });

  it('scopes Telemetry the same way, including targetRefs', () => {
    const tracing = { tracing: [{ randomSamplingPercentage: 10 }] };
    const resources = load(
      telemetry('mesh', tracing, { namespace: ROOT }),
      telemetry('namespace', tracing),
      telemetry('v2', { selector: { matchLabels: { version: 'v2' } }, ...tracing }),
      telemetry('to-reviews', { targetRefs: [{ kind: 'Service', name: 'reviews' }], ...tracing }),
      telemetry('other', tracing, { namespace: 'other' }),
    );
    expect(keys(inbound(resources).telemetry)).toEqual([
      'Telemetry/default/namespace',
      'Telemetry/default/to-reviews',
      'Telemetry/istio-system/mesh',
    ]);
  });
});
