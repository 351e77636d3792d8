/**
 * The two clients of bench/failure.ts (S8), one fresh per window: bare undici round robin over the
 * ten endpoints with no retries, and Weft's mesh dispatcher over the same endpoints as a static
 * mesh with outlier detection and retries (MESH_YAML). Weft's client records the outlier
 * detector's ejections and the retry controller's decisions as they happen.
 */
import { Agent, type Dispatcher, request } from 'undici';
import { createMesh, type Mesh, type RegisteredWorkload } from '../../packages/core/src/index.ts';
import { createMeshDispatcher } from '../../packages/http/src/index.ts';
import type { Send } from './load.ts';

/** The endpoints every window uses. */
export const ENDPOINTS = 10;

const DESTINATION_RULE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: origin }
spec:
  host: origin
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection: { consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 10 }
`;
const VIRTUAL_SERVICE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: origin }
spec:
  hosts: [origin]
  http:
  - route: [{ destination: { host: origin } }]
    timeout: 1s
    retries: { attempts: 2, perTryTimeout: 50ms, retryOn: "5xx,reset,connect-failure" }
`;
export const MESH_YAML = `${DESTINATION_RULE}---\n${VIRTUAL_SERVICE}`;

export interface WindowClient {
  readonly send: Send;
  /** Each outlier ejection, with the endpoint and the hrtime (ns) at which it was reported. */
  readonly ejections: { endpoint: string; atNs: bigint }[];
  readonly retries: { scheduled: number; refused: number; refusedReasons: Record<string, number> };
  close(): Promise<void>;
}

async function readOk(url: string, dispatcher: Dispatcher): Promise<boolean> {
  const response = await request(url, { dispatcher });
  const body = await response.body.text();
  return response.statusCode === 200 && body === 'ok';
}

export function bareClient(ports: readonly number[]): WindowClient {
  const agent = new Agent();
  const urls = ports.map((port) => `http://127.0.0.1:${port}/`);
  let next = 0;
  return {
    send: () => {
      next = (next + 1) % urls.length;
      return readOk(urls[next] as string, agent);
    },
    ejections: [],
    retries: { scheduled: 0, refused: 0, refusedReasons: {} },
    close: () => agent.close(),
  };
}

export function weftClient(ports: readonly number[]): WindowClient {
  const workloads: RegisteredWorkload[] = ports.map((port, i) => ({
    name: `origin-${i}`,
    namespace: 'default',
    service: 'origin',
    serviceAccount: 'origin',
    labels: { app: 'origin', version: 'v1' },
    address: '127.0.0.1',
    ports: { 9080: port },
  }));
  const mesh: Mesh = createMesh({
    workload: {
      name: 'bench-client',
      namespace: 'default',
      serviceAccount: 'bench-client',
      labels: { app: 'bench-client' },
    },
    workloads,
    config: { yaml: MESH_YAML },
  });
  // Proof the mesh is what this file says: one route to a cluster of the ten endpoints.
  const view = mesh.outbound;
  const host = view.resolveHost('origin');
  const destination =
    host === undefined ? undefined : view.routeTable(host, 9080)?.routes[0]?.destinations[0];
  const endpoints = destination === undefined ? 0 : (view.cluster(destination)?.endpoints.length ?? 0);
  if (endpoints !== ENDPOINTS) throw new Error(`weft: the mesh routes origin:9080 to ${endpoints} endpoints`);
  const ejections: { endpoint: string; atNs: bigint }[] = [];
  const retries = { scheduled: 0, refused: 0, refusedReasons: {} as Record<string, number> };
  const disposers = [
    mesh.events.outlier.on((event) => {
      if (event.type === 'ejected')
        ejections.push({ endpoint: event.endpoint, atNs: process.hrtime.bigint() });
    }),
    mesh.events.retry.on((event) => {
      if (event.type === 'retry-scheduled') retries.scheduled += 1;
      else {
        retries.refused += 1;
        retries.refusedReasons[event.reason] = (retries.refusedReasons[event.reason] ?? 0) + 1;
      }
    }),
  ];
  const dispatcher = createMeshDispatcher(mesh);
  return {
    send: () => readOk('http://origin:9080/', dispatcher),
    ejections,
    retries,
    async close() {
      for (const dispose of disposers) dispose();
      await dispatcher.close();
      mesh.close();
    },
  };
}
