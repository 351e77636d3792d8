/**
 * What the end-to-end and bad-inputs control-plane tests share beyond client-harness.ts: admin
 * calls over HTTP (apply, register, list), a Bookinfo-like config as YAML, a real upstream on
 * 127.0.0.1 and a meshed fetch (@weft/http) to call it through the mesh. Everything started
 * registers its teardown in the harness's `cleanups`.
 */
import { createServer } from 'node:http';
import {
  createMesh,
  type Mesh,
  type MeshOptions,
  type RegisteredWorkload,
  type RevisionMark,
} from '@weft/core';
// By package name: @weft/http is not a project this one references (tsconfig.test.json).
import { createMeshDispatcher, createMeshFetch, type MeshFetch } from '@weft/http';
import { type Agent, createAgent, EtcdStore, type EtcdStoreOptions, type Store } from '../../src/index.ts';
import {
  cleanups,
  HEARTBEAT_MS,
  listen,
  reviewsRoute,
  reviewsSubsets,
  reviewsWorkload,
} from '../client-harness.ts';

// ---- agents and stores ------------------------------------------------------------------------------

/** An agent in this process on any store, with the harness's short heartbeat and no coalescing. */
export async function startAgentOn(
  store: Store,
  options: { readonly port?: number; readonly adminToken?: string } = {},
): Promise<Agent> {
  const agent = await createAgent({ store, heartbeatMs: HEARTBEAT_MS, coalesceWindowMs: 0, ...options });
  cleanups.push(() => agent.close());
  return agent;
}

/** An EtcdStore with short timeouts and back-off, its background errors collected in `errors`. */
export async function openEtcdStore(
  endpoint: string,
  prefix: string,
  errors: unknown[] = [],
  options: Partial<EtcdStoreOptions> = {},
): Promise<EtcdStore> {
  const store = await EtcdStore.open({
    endpoints: endpoint,
    prefix,
    requestTimeoutMs: 500,
    reconnectDelayMs: { initial: 50, max: 200 },
    progressIntervalMs: 200,
    onBackgroundError: (error) => errors.push(error),
    ...options,
  });
  cleanups.push(() => store.close());
  return store;
}

/** The harness's seed on any store: reviews' subsets, everything to v1, workloads v1 and v2. */
export async function seedStore(store: Store): Promise<void> {
  const put = await store.putResources([reviewsSubsets, reviewsRoute('v1')]);
  if (!put.ok) throw new Error('seeding the store failed');
  await store.registerWorkload(reviewsWorkload('v1', 19080), 60_000);
  await store.registerWorkload(reviewsWorkload('v2', 19081), 60_000);
}

/** The harness's productpage mesh, with other mesh options (e.g. REGISTRY_ONLY). */
export function newMeshWith(options: Partial<MeshOptions>): Mesh {
  const mesh = createMesh({
    workload: {
      name: 'productpage-v1-0',
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
      labels: { app: 'productpage', version: 'v1' },
      service: 'productpage',
    },
    mesh: options,
  });
  cleanups.push(() => mesh.close());
  return mesh;
}

// ---- admin calls ----------------------------------------------------------------------------------

export interface AdminAnswer {
  readonly status: number;
  readonly body: {
    readonly mark?: RevisionMark;
    readonly error?: { readonly code: string; readonly message: string; readonly issues?: unknown[] };
    readonly findings?: readonly {
      readonly code: string;
      readonly resource?: string;
      readonly message: string;
    }[];
    readonly items?: readonly StoredItem[];
    readonly results?: readonly { readonly name: string; readonly action: string }[];
  } & Record<string, unknown>;
  readonly headers: Headers;
}

export interface StoredItem {
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion: string;
    readonly generation: number;
  };
  readonly spec: unknown;
}

/** One admin call; the answer's JSON body (or {}), never a throw for an HTTP error status. */
export async function adminCall(
  agentUrl: string,
  method: string,
  path: string,
  body?: string,
  init: { readonly token?: string; readonly contentType?: string } = {},
): Promise<AdminAnswer> {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.contentType !== undefined) headers['content-type'] = init.contentType;
  const response = await fetch(`${agentUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let parsed: AdminAnswer['body'] = {};
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as AdminAnswer['body']);
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

export function applyYaml(agentUrl: string, yaml: string, token?: string): Promise<AdminAnswer> {
  return adminCall(agentUrl, 'POST', '/v1/apply', yaml, {
    contentType: 'application/yaml',
    ...(token === undefined ? {} : { token }),
  });
}

/** `GET /v1/resources`: kind/namespace/name@resourceVersion (generation g) of everything stored. */
export async function storedSummary(agentUrl: string): Promise<string[]> {
  const answer = await adminCall(agentUrl, 'GET', '/v1/resources');
  if (answer.status !== 200) throw new Error(`GET /v1/resources answered ${answer.status}`);
  return (answer.body.items ?? []).map(
    (item) =>
      `${item.kind}/${item.metadata.namespace}/${item.metadata.name}@${item.metadata.resourceVersion} g${item.metadata.generation}`,
  );
}

export function registerWorkload(
  agentUrl: string,
  workload: RegisteredWorkload,
  ttlMs = 60_000,
  token?: string,
): Promise<AdminAnswer> {
  return adminCall(agentUrl, 'POST', '/v1/workloads', JSON.stringify({ ...workload, ttlMs }), {
    contentType: 'application/json',
    ...(token === undefined ? {} : { token }),
  });
}

/** reviews' subsets v1 and v2, and a VirtualService sending everything to `subset`. */
export function reviewsYaml(subset = 'v1', extraRoutes = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:${extraRoutes}
  - route: [{ destination: { host: reviews, subset: ${subset} } }]
`;
}

/** A VirtualService `name` for host `host`, routed to itself (a resource to create in bulk). */
export function hostRouteYaml(name: string, host = name): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${host}]
  http:
  - route: [{ destination: { host: ${host} } }]
`;
}

/** An HTTP server on 127.0.0.1 answering every request with 200 and `body`; counts requests. */
export async function startUpstream(
  body: string,
): Promise<{ readonly port: number; readonly served: () => number }> {
  let served = 0;
  const server = createServer((_request, response) => {
    served += 1;
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  const port = await listen(server);
  // Before the harness closes the server: keep-alive sockets would hold its close.
  cleanups.push(() => server.closeAllConnections());
  return { port, served: () => served };
}

/** A fetch through `mesh` (@weft/http), closed with the test. */
export function meshFetch(mesh: Mesh): MeshFetch {
  const dispatcher = createMeshDispatcher(mesh);
  cleanups.push(() => dispatcher.close());
  return createMeshFetch(mesh, { meshDispatcher: dispatcher });
}

/** Calls `url` through `fetch` from `concurrency` loops until `shouldStop()`; every outcome counted. */
export async function loadLoop(
  fetchThrough: MeshFetch,
  url: string,
  options: { readonly concurrency: number; readonly shouldStop: (completed: number) => boolean },
): Promise<{
  readonly completed: number;
  readonly failures: readonly string[];
  readonly bodies: Set<string>;
}> {
  let completed = 0;
  const failures: string[] = [];
  const bodies = new Set<string>();
  const loop = async (): Promise<void> => {
    while (!options.shouldStop(completed)) {
      try {
        const response = await fetchThrough(url, { signal: AbortSignal.timeout(5_000) });
        const text = await response.text();
        if (response.status !== 200) failures.push(`HTTP ${response.status}: ${text.slice(0, 200)}`);
        bodies.add(text);
      } catch (error) {
        failures.push(String((error as Error).cause ?? error));
      }
      completed += 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  return { completed, failures, bodies };
}
