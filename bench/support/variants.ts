/**
 * The clients bench/http-overhead.ts compares. S0 is bare undici (the floor); every S1 variant
 * sends the same request through Weft's mesh dispatcher to `http://origin:9080/`, with one
 * feature configured, or all of them. Each variant owns its dispatcher (and so its connection
 * pool); all talk to the same origin process.
 */
import { Agent, type Dispatcher, fetch, request } from 'undici';
import {
  type ConfigIssue,
  createMesh,
  type Mesh,
  type RegisteredWorkload,
  type WorkloadView,
} from '../../packages/core/src/index.ts';
import { createMeshDispatcher, createMeshFetch } from '../../packages/http/src/index.ts';
import type { Send } from './load.ts';

/** A ready client of one variant. */
export interface BenchClient {
  readonly send: Send;
  /** What the mesh compiled for `origin:9080` (S1 only), checked against the variant's intent. */
  readonly facts?: MeshFacts;
  close(): Promise<void>;
}

export interface Variant {
  readonly id: string;
  readonly description: string;
  /** The S0 variant this one is compared with; undefined for the S0 variants themselves. */
  readonly baseline?: string;
  create(ports: readonly number[]): BenchClient;
}

/** The policy the mesh applies to `http://origin:9080/`, as compiled: proof a variant is what it says. */
export interface MeshFacts {
  readonly routes: number;
  readonly endpoints: number;
  readonly loadBalancer: string | undefined;
  readonly consecutive5xxErrors: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly retryAttempts: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly retryOn: string;
  readonly hasFault: boolean;
}

const OK = 'ok';
const MESH_URL = 'http://origin:9080/';

async function readRequest(url: string, dispatcher: Dispatcher): Promise<boolean> {
  const response = await request(url, { dispatcher });
  const body = await response.body.text();
  return response.statusCode === 200 && body === OK;
}

function bareRequest(id: string, description: string, endpoints: number): Variant {
  return {
    id,
    description,
    create(ports) {
      const agent = new Agent();
      const urls = ports.slice(0, endpoints).map((port) => `http://127.0.0.1:${port}/`);
      if (urls.length !== endpoints) throw new Error(`${id}: needs ${endpoints} origin ports`);
      let next = 0;
      const send: Send =
        endpoints === 1
          ? () => readRequest(urls[0] as string, agent)
          : () => {
              next = (next + 1) % endpoints;
              return readRequest(urls[next] as string, agent);
            };
      return { send, close: () => agent.close() };
    },
  };
}

const bareFetch: Variant = {
  id: 's0-fetch',
  description: 'bare undici.fetch, one Agent',
  create(ports) {
    const agent = new Agent();
    const url = `http://127.0.0.1:${ports[0]}/`;
    return {
      async send() {
        const response = await fetch(url, { dispatcher: agent });
        const body = await response.text();
        return response.status === 200 && body === OK;
      },
      close: () => agent.close(),
    };
  },
};

// --- S1: the mesh --------------------------------------------------------------------------

const HEADER_ROUTE = `  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: origin } }]`;
const TIMEOUT_RETRIES = `    timeout: 5s
    retries: { attempts: 2, perTryTimeout: 2s, retryOn: 5xx }`;
const FAULT_AT_ZERO = `    fault:
      delay: { percentage: { value: 0 }, fixedDelay: 5s }
      abort: { percentage: { value: 0 }, httpStatus: 503 }`;

/** A VirtualService for `origin` whose catch-all route carries `policy` lines. */
function virtualService(options: { headerRoute: boolean; policy: readonly string[] }): string {
  return [
    'apiVersion: networking.istio.io/v1',
    'kind: VirtualService',
    'metadata: { name: origin }',
    'spec:',
    '  hosts: [origin]',
    '  http:',
    ...(options.headerRoute ? [HEADER_ROUTE] : []),
    '  - route: [{ destination: { host: origin } }]',
    ...options.policy,
  ].join('\n');
}

function destinationRule(trafficPolicy: readonly string[]): string {
  return [
    'apiVersion: networking.istio.io/v1',
    'kind: DestinationRule',
    'metadata: { name: origin }',
    'spec:',
    '  host: origin',
    '  trafficPolicy:',
    ...trafficPolicy.map((line) => `    ${line}`),
  ].join('\n');
}

const LEAST_REQUEST = 'loadBalancer: { simple: LEAST_REQUEST }';
const OUTLIER = 'outlierDetection: { consecutive5xxErrors: 5 }';

function originWorkloads(ports: readonly number[], endpoints: number): RegisteredWorkload[] {
  if (ports.length < endpoints) throw new Error(`needs ${endpoints} origin ports`);
  return ports.slice(0, endpoints).map((port, i) => ({
    name: `origin-${i}`,
    namespace: 'default',
    service: 'origin',
    serviceAccount: 'origin',
    labels: { app: 'origin', version: 'v1', instance: String(i) },
    address: '127.0.0.1',
    ports: { 9080: port },
  }));
}

/** The mesh of the benchmark client; refuses configuration that compiles with any warning. */
function benchMesh(yaml: string, workloads: readonly RegisteredWorkload[]): Mesh {
  const mesh = createMesh({
    workload: {
      name: 'bench-client',
      namespace: 'default',
      serviceAccount: 'bench-client',
      labels: { app: 'bench-client', version: 'v1' },
    },
    workloads,
  });
  if (yaml === '') return mesh;
  let warnings: readonly ConfigIssue[] = [];
  const dispose = mesh.events.snapshot.on((event) => {
    warnings = event.warnings;
  });
  mesh.applyConfig({ yaml });
  dispose();
  if (warnings.length > 0)
    throw new Error(`bench config has warnings: ${warnings.map((issue) => issue.message).join('; ')}`);
  return mesh;
}

function factsOf(view: WorkloadView): MeshFacts {
  const host = view.resolveHost('origin');
  const table = host === undefined ? undefined : view.routeTable(host, 9080);
  // Requests carry no end-user header, so they take the last (catch-all) route.
  const route = table?.routes[table.routes.length - 1];
  const destination = route?.destinations[0];
  const cluster = destination === undefined ? undefined : view.cluster(destination);
  if (table === undefined || route === undefined || cluster === undefined)
    throw new Error('the mesh has no route to origin:9080');
  const balancer = cluster.policy.loadBalancer as { simple?: string } | undefined;
  const outlier = cluster.policy.outlierDetection as { consecutive5xxErrors?: number } | undefined;
  return {
    routes: table.routes.length,
    endpoints: cluster.endpoints.length,
    loadBalancer: balancer?.simple,
    consecutive5xxErrors: outlier?.consecutive5xxErrors,
    timeoutMs: route.timeoutMs,
    retryAttempts: route.retry.attempts,
    perTryTimeoutMs: route.retry.perTryTimeoutMs,
    retryOn: [...route.retry.retryOn].sort().join(','),
    hasFault: route.spec?.fault !== undefined,
  };
}

interface MeshVariantOptions {
  readonly id: string;
  readonly description: string;
  readonly baseline: string;
  readonly yaml: readonly string[];
  readonly endpoints: number;
  readonly api: 'request' | 'fetch';
  /** What factsOf must report; fields left out must equal those of the policy-free mesh. */
  readonly expect: Partial<MeshFacts>;
}

function meshVariant(options: MeshVariantOptions): Variant {
  return {
    id: options.id,
    description: options.description,
    baseline: options.baseline,
    create(ports) {
      const mesh = benchMesh(options.yaml.join('\n---\n'), originWorkloads(ports, options.endpoints));
      const facts = factsOf(mesh.outbound);
      const expected = { ...NO_POLICY, endpoints: options.endpoints, ...options.expect };
      if (JSON.stringify(facts) !== JSON.stringify(expected))
        throw new Error(
          `${options.id}: the mesh compiled ${JSON.stringify(facts)}, expected ${JSON.stringify(expected)}`,
        );
      const dispatcher = createMeshDispatcher(mesh);
      let send: Send;
      if (options.api === 'request') {
        send = () => readRequest(MESH_URL, dispatcher);
      } else {
        const meshFetch = createMeshFetch(mesh, { meshDispatcher: dispatcher });
        send = async () => {
          const response = await meshFetch(MESH_URL);
          const body = await response.text();
          return response.status === 200 && body === OK;
        };
      }
      return {
        send,
        facts,
        async close() {
          await dispatcher.close();
          mesh.close();
        },
      };
    },
  };
}

/** The default route of a service no VirtualService names: Istio's default retry policy. */
const NO_POLICY: MeshFacts = {
  routes: 1,
  endpoints: 1,
  loadBalancer: undefined,
  consecutive5xxErrors: undefined,
  timeoutMs: undefined,
  retryAttempts: 2,
  perTryTimeoutMs: undefined,
  retryOn: 'cancelled,connect-failure,refused-stream,retriable-status-codes,unavailable',
  hasFault: false,
};

const ALL_YAML = [
  virtualService({ headerRoute: true, policy: [TIMEOUT_RETRIES, FAULT_AT_ZERO] }),
  destinationRule([LEAST_REQUEST, OUTLIER]),
];
const ALL_FACTS: Partial<MeshFacts> = {
  routes: 2,
  loadBalancer: 'LEAST_REQUEST',
  consecutive5xxErrors: 5,
  timeoutMs: 5000,
  retryAttempts: 2,
  perTryTimeoutMs: 2000,
  retryOn: '5xx',
  hasFault: true,
};

export const VARIANTS: readonly Variant[] = [
  bareRequest('s0-request', 'bare undici.request, one Agent', 1),
  bareFetch,
  bareRequest('s0-request-x10', 'bare undici.request, one Agent, round-robin over 10 origin ports', 10),
  meshVariant({
    id: 'mesh-default',
    description: 'mesh, no VirtualService or DestinationRule (default route)',
    baseline: 's0-request',
    yaml: [],
    endpoints: 1,
    api: 'request',
    expect: {},
  }),
  meshVariant({
    id: 'routing',
    description: 'VirtualService: header match (missed) + catch-all route',
    baseline: 's0-request',
    yaml: [virtualService({ headerRoute: true, policy: [] })],
    endpoints: 1,
    api: 'request',
    expect: { routes: 2, retryAttempts: 2 },
  }),
  meshVariant({
    id: 'lb-1',
    description: 'DestinationRule LEAST_REQUEST, 1 endpoint',
    baseline: 's0-request',
    yaml: [destinationRule([LEAST_REQUEST])],
    endpoints: 1,
    api: 'request',
    expect: { loadBalancer: 'LEAST_REQUEST' },
  }),
  meshVariant({
    id: 'lb-10',
    description: 'DestinationRule LEAST_REQUEST, 10 endpoints (10 origin ports)',
    baseline: 's0-request-x10',
    yaml: [destinationRule([LEAST_REQUEST])],
    endpoints: 10,
    api: 'request',
    expect: { loadBalancer: 'LEAST_REQUEST' },
  }),
  meshVariant({
    id: 'retry-timeout',
    description: 'route timeout 5s, retries 2 × perTryTimeout 2s on 5xx',
    baseline: 's0-request',
    yaml: [virtualService({ headerRoute: false, policy: [TIMEOUT_RETRIES] })],
    endpoints: 1,
    api: 'request',
    expect: { timeoutMs: 5000, perTryTimeoutMs: 2000, retryOn: '5xx' },
  }),
  meshVariant({
    id: 'outlier',
    description: 'DestinationRule outlierDetection consecutive5xxErrors 5',
    baseline: 's0-request',
    yaml: [destinationRule([OUTLIER])],
    endpoints: 1,
    api: 'request',
    expect: { consecutive5xxErrors: 5 },
  }),
  meshVariant({
    id: 'fault-0',
    description: 'fault delay + abort at 0% (the decision path)',
    baseline: 's0-request',
    yaml: [virtualService({ headerRoute: false, policy: [FAULT_AT_ZERO] })],
    endpoints: 1,
    api: 'request',
    expect: { hasFault: true },
  }),
  meshVariant({
    id: 'all',
    description: 'all of the above together, 1 endpoint',
    baseline: 's0-request',
    yaml: ALL_YAML,
    endpoints: 1,
    api: 'request',
    expect: ALL_FACTS,
  }),
  meshVariant({
    id: 'all-fetch',
    description: 'all together, through createMeshFetch',
    baseline: 's0-fetch',
    yaml: ALL_YAML,
    endpoints: 1,
    api: 'fetch',
    expect: ALL_FACTS,
  }),
];
