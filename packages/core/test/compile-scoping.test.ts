/**
 * What a calling workload can see, checked against Istio's reference: exportTo on
 * VirtualService, DestinationRule and ServiceEntry; Sidecar egress hosts, Sidecar selection and
 * outboundTrafficPolicy; host name resolution; ServiceEntry and Kubernetes Service registration;
 * duplicate resources; wildcard VirtualService hosts; cross-namespace host claims (Weft's
 * `crossNamespaceHostClaims`). Resources go through the parser first.
 */
import { describe, expect, it } from 'vitest';
import {
  type CompileOptions,
  compile,
  formatConfigIssue,
  parseConfigObjects,
  type RegisteredWorkload,
  type Resource,
  type SourceWorkload,
  type WorkloadView,
} from '../src/index.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';
const API = 'api.team.svc.cluster.local';
const LOCAL = 'local.app.svc.cluster.local';
const TELEMETRY = 'telemetry.istio-system.svc.cluster.local';

function workload(
  name: string,
  namespace: string,
  service: string,
  ports: Record<number, number>,
  labels: Record<string, string> = { app: service },
): RegisteredWorkload {
  return { name, namespace, service, serviceAccount: service, labels, address: '127.0.0.1', ports };
}

const registry = {
  workloads: [
    workload('reviews-v1', 'default', 'reviews', { 9080: 19001 }),
    workload('api-1', 'team', 'api', { 8080: 18080 }),
    workload('local-1', 'app', 'local', { 8080: 28080 }),
    workload('telemetry-1', 'istio-system', 'telemetry', { 9090: 39090 }),
  ],
};

const PRODUCTPAGE: SourceWorkload = { namespace: 'default', labels: { app: 'productpage' } };
const APP: SourceWorkload = { namespace: 'app', labels: { app: 'client' } };
const SPECIAL: SourceWorkload = { namespace: 'app', labels: { app: 'special' } };
const TEAM: SourceWorkload = { namespace: 'team', labels: { app: 'team-client' } };
const OTHER: SourceWorkload = { namespace: 'other', labels: { app: 'other-client' } };
const THIRD: SourceWorkload = { namespace: 'third', labels: { app: 'third-client' } };

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

const virtualService = resource('networking.istio.io/v1', 'VirtualService');
const destinationRule = resource('networking.istio.io/v1', 'DestinationRule');
const serviceEntry = resource('networking.istio.io/v1', 'ServiceEntry');
const workloadEntry = resource('networking.istio.io/v1', 'WorkloadEntry');
const sidecar = resource('networking.istio.io/v1', 'Sidecar');
const kubernetesService = resource('v1', 'Service');

function viewOf(resources: readonly Resource[], source: SourceWorkload, options: CompileOptions = {}) {
  return compile(resources, registry, options).forWorkload(source);
}

/** Route names a caller sees for `host` on `port`. */
function routeNames(view: WorkloadView, host: string, port: number): string[] | undefined {
  return view.routeTable(host, port)?.routes.map((route) => route.name);
}

const visibleHosts = (view: WorkloadView) => [...view.services.keys()].sort();

describe('exportTo', () => {
  const teamRoute = (exportTo?: string[]) =>
    virtualService(
      'api',
      {
        hosts: ['api'],
        http: [{ name: 'team-route', route: [{ destination: { host: 'api' } }] }],
        ...(exportTo ? { exportTo } : {}),
      },
      { namespace: 'team' },
    );
  const seesTeamRoute = (
    resources: readonly Resource[],
    source: SourceWorkload,
    options: CompileOptions = {},
  ) => routeNames(viewOf(resources, source, options), API, 8080)?.[0] === 'team-route';

  it.each([
    ['absent (Istio default "*")', undefined, [true, true, true]],
    ['["*"]', ['*'], [true, true, true]],
    ['["."]', ['.'], [true, false, false]],
    ['["other"]', ['other'], [false, true, false]],
    ['[".", "other"]', ['.', 'other'], [true, true, false]],
    ['["~"]', ['~'], [false, false, false]],
  ])(
    'a VirtualService with exportTo %s is seen by [team, other, third] = %j',
    (_label, exportTo, expected) => {
      const resources = load(teamRoute(exportTo));
      expect([TEAM, OTHER, THIRD].map((source) => seesTeamRoute(resources, source))).toEqual(expected);
    },
  );

  it('falls back to the mesh option defaultExportTo when a resource sets none', () => {
    const resources = load(teamRoute());
    const options = { defaultExportTo: ['.'] };
    expect(seesTeamRoute(resources, TEAM, options)).toBe(true);
    expect(seesTeamRoute(resources, OTHER, options)).toBe(false);
    expect(seesTeamRoute(load(teamRoute(['*'])), OTHER, options)).toBe(true);
  });

  it.each([
    ['absent', undefined, [true, true]],
    ['["."]', ['.'], [true, false]],
    ['["other"]', ['other'], [false, true]],
    ['["~"]', ['~'], [false, false]],
  ])('a DestinationRule with exportTo %s applies to [team, other] = %j', (_label, exportTo, expected) => {
    const resources = load(
      destinationRule(
        'api',
        {
          host: 'api',
          trafficPolicy: { loadBalancer: { simple: 'RANDOM' } },
          ...(exportTo ? { exportTo } : {}),
        },
        { namespace: 'team' },
      ),
    );
    const applies = (source: SourceWorkload) =>
      viewOf(resources, source).cluster({
        clusterName: `outbound|8080||${API}`,
        host: API,
        port: 8080,
        weight: 1,
      })?.destinationRules.length === 1;
    expect([TEAM, OTHER].map(applies)).toEqual(expected);
  });

  it.each([
    ['absent', undefined, [true, true]],
    ['["."]', ['.'], [true, false]],
    ['["other"]', ['other'], [false, true]],
    ['["~"]', ['~'], [false, false]],
  ])('a ServiceEntry with exportTo %s is visible to [ext, other] = %j', (_label, exportTo, expected) => {
    const resources = load(
      serviceEntry(
        'payments',
        {
          hosts: ['payments.example.com'],
          ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
          ...(exportTo ? { exportTo } : {}),
        },
        { namespace: 'ext' },
      ),
    );
    const ext: SourceWorkload = { namespace: 'ext', labels: {} };
    const sees = (source: SourceWorkload) =>
      viewOf(resources, source).resolveHost('payments.example.com') !== undefined;
    expect([ext, OTHER].map(sees)).toEqual(expected);
  });
});

describe('Sidecar egress hosts', () => {
  const egress = (hosts: string[], namespace = 'app', extra: object = {}) =>
    sidecar('default', { egress: [{ hosts }], ...extra }, { namespace });

  it('"./*" shows only the services of the Sidecar’s own namespace', () => {
    const view = viewOf(load(egress(['./*'])), APP);
    expect(visibleHosts(view)).toEqual([LOCAL]);
    expect(view.resolveHost('local')).toBe(LOCAL);
    expect(view.resolveHost('reviews.default')).toBeUndefined();
  });

  it('"*/<host>" shows that host from any namespace, and nothing else', () => {
    expect(visibleHosts(viewOf(load(egress([`*/${REVIEWS}`])), APP))).toEqual([REVIEWS]);
  });

  it('"<namespace>/*" shows every service of that namespace', () => {
    expect(visibleHosts(viewOf(load(egress(['team/*'])), APP))).toEqual([API]);
  });

  it('"~/*" shows nothing', () => {
    const view = viewOf(load(egress(['~/*'])), APP);
    expect(visibleHosts(view)).toEqual([]);
    expect(view.resolveHost('local')).toBeUndefined();
  });

  it('hides VirtualServices of namespaces the egress hosts leave out', () => {
    const external = virtualService('httpbin', {
      hosts: ['httpbin.org'],
      http: [{ route: [{ destination: { host: 'httpbin.org' } }] }],
    });
    expect(viewOf(load(egress(['./*']), external), APP).resolveHost('httpbin.org')).toBeUndefined();
    expect(viewOf(load(egress(['default/*']), external), APP).resolveHost('httpbin.org')).toBe('httpbin.org');
  });
});

describe('Sidecar selection', () => {
  const namespaceDefault = sidecar('default', { egress: [{ hosts: ['./*'] }] }, { namespace: 'app' });
  const forSpecial = sidecar(
    'special',
    { workloadSelector: { labels: { app: 'special' } }, egress: [{ hosts: ['default/*'] }] },
    { namespace: 'app' },
  );
  const rootDefault = (hosts: string[]) =>
    sidecar('default', { egress: [{ hosts }] }, { namespace: 'istio-system' });

  it('prefers a Sidecar whose workloadSelector selects the workload', () => {
    const view = viewOf(load(namespaceDefault, forSpecial), SPECIAL);
    expect(view.sidecar.sidecar).toBe('Sidecar/app/special');
    expect(visibleHosts(view)).toEqual([REVIEWS]);
  });

  it('else uses the namespace’s Sidecar without selector', () => {
    const view = viewOf(load(namespaceDefault, forSpecial), APP);
    expect(view.sidecar.sidecar).toBe('Sidecar/app/default');
    expect(visibleHosts(view)).toEqual([LOCAL]);
  });

  it('else uses the root namespace’s Sidecar without selector', () => {
    const resources = load(namespaceDefault, rootDefault(['istio-system/*']));
    const team = viewOf(resources, TEAM);
    expect(team.sidecar.sidecar).toBe('Sidecar/istio-system/default');
    expect(visibleHosts(team)).toEqual([TELEMETRY]);
    expect(viewOf(resources, APP).sidecar.sidecar).toBe('Sidecar/app/default');
  });

  it('reads "./*" in the root Sidecar as the workload’s own namespace', () => {
    // Istio's reference example: a root-namespace default Sidecar with "./*" lets sidecars "in all
    // namespaces" reach "other workloads in the same namespace" (ConvertToSidecarScope is given the
    // workload's namespace).
    const view = viewOf(load(rootDefault(['./*', 'istio-system/*'])), TEAM);
    expect(visibleHosts(view)).toEqual([API, TELEMETRY].sort());
  });

  it('ignores a root-namespace Sidecar with a workloadSelector for other namespaces', () => {
    const rootSelected = sidecar(
      'selected',
      { workloadSelector: { labels: { app: 'team-client' } }, egress: [{ hosts: ['istio-system/*'] }] },
      { namespace: 'istio-system' },
    );
    const view = viewOf(load(rootSelected), TEAM);
    expect(view.sidecar.sidecar).toBeUndefined();
    expect(visibleHosts(view)).toEqual([API, LOCAL, REVIEWS, TELEMETRY].sort());
  });

  it('without any Sidecar, every exported service is visible', () => {
    expect(visibleHosts(viewOf(load(), APP))).toEqual([API, LOCAL, REVIEWS, TELEMETRY].sort());
  });
});

describe('outboundTrafficPolicy', () => {
  const withPolicy = (policy?: object) =>
    sidecar(
      'default',
      { egress: [{ hosts: ['*/*'] }], ...(policy === undefined ? {} : { outboundTrafficPolicy: policy }) },
      { namespace: 'app' },
    );

  it('is ALLOW_ANY by default, and the mesh option otherwise', () => {
    expect(viewOf(load(), APP).outboundTrafficPolicy).toBe('ALLOW_ANY');
    expect(viewOf(load(), APP, { outboundTrafficPolicy: 'REGISTRY_ONLY' }).outboundTrafficPolicy).toBe(
      'REGISTRY_ONLY',
    );
  });

  it('takes the Sidecar’s mode over the mesh option', () => {
    expect(viewOf(load(withPolicy({ mode: 'REGISTRY_ONLY' })), APP).outboundTrafficPolicy).toBe(
      'REGISTRY_ONLY',
    );
    expect(
      viewOf(load(withPolicy({ mode: 'ALLOW_ANY' })), APP, { outboundTrafficPolicy: 'REGISTRY_ONLY' })
        .outboundTrafficPolicy,
    ).toBe('ALLOW_ANY');
  });

  it('keeps the mesh option when the Sidecar has no outboundTrafficPolicy', () => {
    expect(
      viewOf(load(withPolicy()), APP, { outboundTrafficPolicy: 'REGISTRY_ONLY' }).outboundTrafficPolicy,
    ).toBe('REGISTRY_ONLY');
    expect(viewOf(load(withPolicy()), APP).outboundTrafficPolicy).toBe('ALLOW_ANY');
  });

  it('reads an outboundTrafficPolicy without mode as REGISTRY_ONLY (proto3’s zero value)', () => {
    expect(viewOf(load(withPolicy({})), APP).outboundTrafficPolicy).toBe('REGISTRY_ONLY');
  });
});

describe('resolveHost', () => {
  it.each([
    'reviews',
    'reviews.default',
    'reviews.default.svc',
    REVIEWS,
    'REVIEWS',
    'Reviews.Default.SVC.cluster.local',
    `${REVIEWS}.`,
  ])('resolves %s to the FQDN for a caller in the service’s namespace', (name) => {
    expect(viewOf(load(), PRODUCTPAGE).resolveHost(name)).toBe(REVIEWS);
  });

  it('resolves a bare name in the caller’s own namespace only', () => {
    const view = viewOf(load(), APP);
    expect(view.resolveHost('reviews')).toBeUndefined();
    expect(view.resolveHost('reviews.default')).toBe(REVIEWS);
    expect(view.resolveHost('local')).toBe(LOCAL);
  });

  it('returns undefined for hosts the mesh does not know', () => {
    const view = viewOf(load(), PRODUCTPAGE);
    expect(view.resolveHost('example.com')).toBeUndefined();
    expect(view.resolveHost('nothing')).toBeUndefined();
    expect(view.resolveHost('reviews.nowhere')).toBeUndefined();
  });

  it('resolves a host that only a VirtualService names', () => {
    const resources = load(
      virtualService('httpbin', {
        hosts: ['httpbin.org'],
        http: [{ route: [{ destination: { host: 'httpbin.org' } }] }],
      }),
    );
    expect(viewOf(resources, PRODUCTPAGE).resolveHost('HTTPBIN.org.')).toBe('httpbin.org');
  });

  it('expands short names with the mesh’s domainSuffix', () => {
    const view = viewOf(load(), PRODUCTPAGE, { domainSuffix: 'corp.example' });
    expect(view.resolveHost('reviews')).toBe('reviews.default.svc.corp.example');
    expect(view.resolveHost('reviews.default.svc')).toBe('reviews.default.svc.corp.example');
    expect(view.resolveHost(REVIEWS)).toBeUndefined();
  });
});

describe('ServiceEntry', () => {
  it('defaults location to MESH_EXTERNAL and resolution to NONE', () => {
    const resources = load(
      serviceEntry('external', {
        hosts: ['api.example.com'],
        ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      }),
    );
    expect(compile(resources, registry).services.get('api.example.com')).toMatchObject({
      origin: 'ServiceEntry',
      definedBy: 'ServiceEntry/default/external',
      namespace: 'default',
      location: 'MESH_EXTERNAL',
      resolution: 'NONE',
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      endpoints: [],
    });
  });

  it('dials inline endpoints on their named port, else the targetPort, else the port', () => {
    const resources = load(
      serviceEntry('payments', {
        hosts: ['payments.example.com'],
        location: 'MESH_INTERNAL',
        resolution: 'STATIC',
        ports: [
          { number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 },
          { number: 9000, name: 'admin', protocol: 'HTTP' },
        ],
        endpoints: [{ address: '10.0.0.1', ports: { http: 18080 } }, { address: '10.0.0.2' }],
      }),
    );
    const view = viewOf(resources, PRODUCTPAGE);
    const host = 'payments.example.com';
    const dial = (port: number) =>
      view
        .cluster({ clusterName: `outbound|${port}||${host}`, host, port, weight: 1 })
        ?.endpoints.map((endpoint) => `${endpoint.address}:${endpoint.port}`);
    expect(dial(80)).toEqual(['10.0.0.1:18080', '10.0.0.2:8080']);
    expect(dial(9000)).toEqual(['10.0.0.1:9000', '10.0.0.2:9000']);
    expect(view.services.get(host)).toMatchObject({ location: 'MESH_INTERNAL', resolution: 'STATIC' });
  });

  it('takes the WorkloadEntries (and registered workloads) its workloadSelector picks in its namespace', () => {
    const resources = load(
      serviceEntry('vms', {
        hosts: ['vm.example.internal'],
        location: 'MESH_INTERNAL',
        resolution: 'STATIC',
        ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
        workloadSelector: { labels: { app: 'vm' } },
      }),
      workloadEntry('vm-1', { address: '10.1.0.1', labels: { app: 'vm' }, ports: { http: 8081 } }),
      workloadEntry('vm-2', { address: '10.1.0.2', labels: { app: 'other' } }),
      workloadEntry('vm-3', { address: '10.1.0.3', labels: { app: 'vm' } }, { namespace: 'elsewhere' }),
    );
    const withPod = {
      workloads: [
        ...registry.workloads,
        workload('vm-pod', 'default', 'vm-pod', { 80: 8082 }, { app: 'vm' }),
      ],
    };
    const service = compile(resources, withPod).services.get('vm.example.internal');
    expect(
      service?.endpoints.map((endpoint) => [endpoint.origin, endpoint.address, endpoint.targetPorts.get(80)]),
    ).toEqual([
      ['WorkloadEntry/default/vm-1', '10.1.0.1', 8081],
      ['registry:default/vm-pod', '127.0.0.1', 80],
    ]);
  });

  it('loses to a registry service with the same host', () => {
    const resources = load(
      serviceEntry('shadow', {
        hosts: [REVIEWS],
        location: 'MESH_INTERNAL',
        ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      }),
      kubernetesService('declared', { ports: [{ name: 'http', port: 80 }] }),
      serviceEntry('shadow-declared', {
        hosts: ['declared.default.svc.cluster.local'],
        ports: [{ number: 8000, name: 'http', protocol: 'HTTP' }],
      }),
    );
    const services = compile(resources, registry).services;
    expect(services.get(REVIEWS)).toMatchObject({ origin: 'registry', ports: [{ number: 9080 }] });
    expect(services.get('declared.default.svc.cluster.local')).toMatchObject({
      origin: 'registry',
      ports: [{ number: 80 }],
    });
  });

  it('keeps the oldest ServiceEntry when several define the same host', () => {
    const entry = (name: string, creationTimestamp: string) =>
      serviceEntry(
        name,
        { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }] },
        { creationTimestamp },
      );
    const resources = load(entry('newer', '2025-01-01T00:00:00Z'), entry('older', '2024-01-01T00:00:00Z'));
    expect(compile(resources, registry).services.get('api.example.com')?.definedBy).toBe(
      'ServiceEntry/default/older',
    );
  });
});

describe('Kubernetes Service', () => {
  const web = kubernetesService('web', {
    type: 'ClusterIP',
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'grpc-api', port: 9090 },
      { name: 'tcp-legacy', port: 7070, appProtocol: 'http2' },
      { name: 'http-metrics', port: 9100, targetPort: 'metrics-port' },
    ],
  });
  const withWeb = {
    workloads: [
      ...registry.workloads,
      workload('web-registered', 'default', 'web', { 80: 18000 }, { app: 'web' }),
      workload('web-selected', 'default', 'another-name', {}, { app: 'web', tier: 'front' }),
      workload('web-elsewhere', 'elsewhere', 'stray', {}, { app: 'web' }),
    ],
  };
  const service = () => compile(load(web), withWeb).services.get('web.default.svc.cluster.local');

  it('declares the ports, with the protocol from appProtocol or the port name’s prefix', () => {
    expect(service()?.ports).toEqual([
      { number: 80, name: 'http', protocol: 'HTTP' },
      { number: 9090, name: 'grpc-api', protocol: 'GRPC' },
      { number: 7070, name: 'tcp-legacy', protocol: 'HTTP2' },
      { number: 9100, name: 'http-metrics', protocol: 'HTTP' },
    ]);
  });

  it('treats a port name with no protocol prefix Istio knows as unnamed (HTTP), not as a protocol', () => {
    // Istio reads `<protocol>[-<suffix>]` for http, http2, https, grpc, grpc-web, mongo, mysql, redis,
    // tcp, tls and udp only; any other name leaves the protocol to detection, which for Weft's
    // in-process clients is HTTP, as for an unnamed port.
    const services = compile(
      load(kubernetesService('plain', { ports: [{ name: 'metrics', port: 9100 }, { port: 9200 }] })),
      registry,
    ).services;
    expect(services.get('plain.default.svc.cluster.local')?.ports.map((port) => port.protocol)).toEqual([
      'HTTP',
      'HTTP',
    ]);
  });

  it('makes members of the registered workloads and of those its selector matches in its namespace', () => {
    expect(service()?.endpoints.map((endpoint) => endpoint.origin)).toEqual([
      'registry:default/web-registered',
      'registry:default/web-selected',
    ]);
  });

  it('dials the workload’s registered port, else a numeric targetPort, else the service port', () => {
    const targets = service()?.endpoints.map((endpoint) => Object.fromEntries(endpoint.targetPorts));
    expect(targets).toEqual([
      { 80: 18000, 9090: 9090, 7070: 7070, 9100: 9100 },
      { 80: 8080, 9090: 9090, 7070: 7070, 9100: 9100 },
    ]);
  });
});

describe('the same kind, namespace and name given twice', () => {
  it('keeps the later VirtualService, as kubectl apply would', () => {
    const version = (routeName: string) =>
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [{ name: routeName, route: [{ destination: { host: 'reviews' } }] }],
      });
    const resources = load(version('first'), version('second'));
    expect(routeNames(viewOf(resources, PRODUCTPAGE), REVIEWS, 9080)).toEqual(['second']);
  });

  it('keeps the later DestinationRule', () => {
    const version = (simple: string) =>
      destinationRule('reviews', { host: 'reviews', trafficPolicy: { loadBalancer: { simple } } });
    const resources = load(version('RANDOM'), version('LEAST_REQUEST'));
    const cluster = viewOf(resources, PRODUCTPAGE).cluster({
      clusterName: `outbound|9080||${REVIEWS}`,
      host: REVIEWS,
      port: 9080,
      weight: 1,
    });
    expect(cluster?.policy.loadBalancer).toEqual({ simple: 'LEAST_REQUEST' });
    expect(cluster?.destinationRules).toEqual(['DestinationRule/default/reviews']);
  });

  it('treats the same name in two namespaces as two resources', () => {
    const inNamespace = (namespace: string) =>
      virtualService(
        'shared',
        {
          hosts: ['httpbin.org'],
          http: [{ name: namespace, route: [{ destination: { host: 'httpbin.org' } }] }],
        },
        { namespace },
      );
    const resources = load(inNamespace('default'), inNamespace('app'));
    expect(routeNames(viewOf(resources, PRODUCTPAGE), 'httpbin.org', 80)).toEqual(['app', 'default']);
  });
});

describe('wildcard VirtualService hosts', () => {
  const entries = serviceEntry('example', {
    hosts: ['api.example.com', 'www.example.com', 'v1.api.example.com'],
    ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
  });
  const claim = (name: string, hosts: string[]) =>
    virtualService(name, { hosts, http: [{ name, route: [{ destination: { host: 'www.example.com' } }] }] });
  const view = () =>
    viewOf(
      load(
        entries,
        claim('wild', ['*.example.com']),
        claim('api-wild', ['*.api.example.com']),
        claim('www-exact', ['www.example.com']),
      ),
      PRODUCTPAGE,
    );

  it('claims the known hosts a wildcard covers', () => {
    expect(routeNames(view(), 'api.example.com', 80)).toEqual(['wild']);
  });

  it('lets the longest matching wildcard win', () => {
    expect(routeNames(view(), 'v1.api.example.com', 80)).toEqual(['api-wild']);
  });

  it('lets a VirtualService naming the host exactly win over any wildcard', () => {
    expect(routeNames(view(), 'www.example.com', 80)).toEqual(['www-exact']);
  });

  it('does not invent hosts from a wildcard', () => {
    expect(view().resolveHost('other.example.com')).toBeUndefined();
  });
});

describe('crossNamespaceHostClaims', () => {
  const claim = (namespace: string, host: string, extra: object = {}) =>
    virtualService(
      'claim',
      { hosts: [host], http: [{ name: `from-${namespace}`, route: [{ destination: { host } }] }], ...extra },
      { namespace },
    );
  const ATTACKER: SourceWorkload = { namespace: 'attacker', labels: {} };

  it('by default applies a claim on another namespace’s service to callers in the claiming namespace only', () => {
    const resources = load(claim('attacker', REVIEWS));
    expect(routeNames(viewOf(resources, PRODUCTPAGE), REVIEWS, 9080)).toEqual(['default']);
    expect(routeNames(viewOf(resources, APP), REVIEWS, 9080)).toEqual(['default']);
    expect(routeNames(viewOf(resources, ATTACKER), REVIEWS, 9080)).toEqual(['from-attacker']);
  });

  it('applies a claim from the owning namespace to every caller', () => {
    const resources = load(claim('default', REVIEWS));
    expect(routeNames(viewOf(resources, APP), REVIEWS, 9080)).toEqual(['from-default']);
  });

  it('applies a claim on a host no namespace owns to every caller', () => {
    const resources = load(claim('attacker', 'httpbin.org'));
    expect(routeNames(viewOf(resources, PRODUCTPAGE), 'httpbin.org', 80)).toEqual(['from-attacker']);
  });

  it('with "mesh-wide", applies the claim to every caller it is exported to, as Istio does', () => {
    const options = { crossNamespaceHostClaims: 'mesh-wide' as const };
    expect(routeNames(viewOf(load(claim('attacker', REVIEWS)), PRODUCTPAGE, options), REVIEWS, 9080)).toEqual(
      ['from-attacker'],
    );
    const private_ = load(claim('attacker', REVIEWS, { exportTo: ['.'] }));
    expect(routeNames(viewOf(private_, PRODUCTPAGE, options), REVIEWS, 9080)).toEqual(['default']);
  });
});
