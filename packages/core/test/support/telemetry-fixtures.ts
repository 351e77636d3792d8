import type { Writable } from 'node:stream';
import {
  type Cluster,
  type ClusterEndpoint,
  type CreateMeshOptions,
  createMesh,
  type Mesh,
  type RegisteredWorkload,
  type RouteRequest,
  seededRandom,
} from '../../src/index.ts';
import { FakeClock } from '../../src/testing.ts';

/** productpage-v1 calling reviews (two workloads, v1 and v2), the caller of every telemetry test. */
export const PRODUCTPAGE = {
  name: 'productpage-v1',
  namespace: 'default',
  serviceAccount: 'productpage',
  labels: { app: 'productpage', version: 'v1' },
  service: 'productpage',
} as const;

export const REVIEWS_WORKLOADS: readonly RegisteredWorkload[] = [
  {
    name: 'reviews-v1',
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'reviews',
    labels: { app: 'reviews', version: 'v1' },
    address: '10.0.0.1',
    ports: { 9080: 9080 },
  },
  {
    name: 'reviews-v2',
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'reviews',
    labels: { app: 'reviews', version: 'v2' },
    address: '10.0.0.2',
    ports: { 9080: 9080 },
  },
];

/** An access-log stream that keeps every line. */
export interface LogLines extends Pick<Writable, 'write' | 'once'> {
  readonly lines: string[];
  records(): Record<string, unknown>[];
}

export function logLines(): LogLines {
  const lines: string[] = [];
  return {
    lines,
    write(chunk: unknown) {
      lines.push(String(chunk));
      return true;
    },
    once() {
      return this as never;
    },
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  } as LogLines;
}

export interface TelemetryMesh {
  readonly mesh: Mesh;
  readonly clock: FakeClock;
  /** The reviews cluster and one of its endpoints, as routing would pick them. */
  readonly cluster: Cluster;
  readonly endpoint: ClusterEndpoint;
}

export function telemetryMesh(options: Partial<CreateMeshOptions> & { yaml?: string } = {}): TelemetryMesh {
  const clock = new FakeClock(1000);
  const { yaml, ...rest } = options;
  const mesh = createMesh({
    workload: PRODUCTPAGE,
    workloads: REVIEWS_WORKLOADS,
    clock,
    random: seededRandom(3),
    ...(yaml === undefined ? {} : { config: { yaml } }),
    ...rest,
  });
  const host = mesh.outbound.resolveHost('reviews');
  const route = host === undefined ? undefined : mesh.outbound.routeTable(host, 9080)?.routes[0];
  const destination = route?.destinations[0];
  const cluster = destination === undefined ? undefined : mesh.outbound.cluster(destination);
  const endpoint = cluster?.endpoints.find((candidate) => candidate.labels.version === 'v2');
  if (cluster === undefined || endpoint === undefined)
    throw new Error('the reviews cluster was not compiled');
  return { mesh, clock, cluster, endpoint };
}

/** A request as adapters describe it to routing and telemetry. */
export function routeRequest(
  headers: Record<string, string> = {},
  overrides: Partial<Omit<RouteRequest, 'header'>> = {},
): RouteRequest {
  return {
    path: '/reviews/1?x=y',
    method: 'GET',
    authority: 'reviews:9080',
    scheme: 'http',
    port: 9080,
    ...overrides,
    header: (name) => headers[name],
  };
}
