import {
  type BreakerEvent,
  type Clock,
  createMesh,
  type FaultEvent,
  type Mesh,
  type MeshOptions,
  type OutlierEvent,
  type PoolOverflowEvent,
  type RegisteredWorkload,
  type RetryEvent,
  seededRandom,
} from '@weft/core';
import {
  type CreateMeshClientOptions,
  createMeshClient,
  type GrpcAttemptEvent,
  type GrpcCallEvent,
  grpcEvents,
} from '../../src/index.ts';
import { type EchoServer, startEchoServer } from './echo-server.ts';
import { type EchoClient, EchoClientConstructor } from './echo-service.ts';

export const SERVICE = 'reviews';
export const TARGET = 'weft:///reviews.default:9080';

/** One workload of `service` on 127.0.0.1, its gRPC port 9080 served on `port`. */
export function grpcWorkload(
  service: string,
  name: string,
  port: number,
  labels: Record<string, string> = {},
): RegisteredWorkload {
  return {
    name,
    namespace: 'default',
    service,
    serviceAccount: service,
    labels: { app: service, version: 'v1', ...labels },
    address: '127.0.0.1',
    ports: { 9080: port },
    protocols: { 9080: 'grpc' },
  };
}

/** Everything the mesh and the gRPC adapter reported, in order, while the client was open. */
export interface Recorded {
  readonly retry: RetryEvent[];
  readonly outlier: OutlierEvent[];
  readonly overflow: PoolOverflowEvent[];
  readonly fault: FaultEvent[];
  readonly breaker: BreakerEvent[];
  readonly calls: GrpcCallEvent[];
  readonly attempts: GrpcAttemptEvent[];
}

export interface MeshedClient {
  readonly mesh: Mesh;
  readonly client: EchoClient;
  readonly events: Recorded;
}

export interface OpenOptions extends Omit<CreateMeshClientOptions, 'service'> {
  readonly target?: string;
  readonly clock?: Clock;
  /** Seeds weights, fault percentages, balancer choices and jitter; 7 unless given. */
  readonly seed?: number;
  readonly meshOptions?: Partial<MeshOptions>;
}

/**
 * What one test starts — echo servers and a meshed client of the productpage workload — so one
 * `afterEach(() => scenario.close())` ends all of it. Servers close before the client, so a
 * hanging call fails instead of holding the client open.
 */
export interface Scenario {
  /** Starts `count` servers named `reviews-<i>`, registered by `workloads()` as version v1. */
  start(count: number): Promise<EchoServer[]>;
  /** Starts one server per version, named `reviews-<version>`, labelled with its version. */
  startVersions(versions: readonly string[]): Promise<Map<string, EchoServer>>;
  /** A server outside the registry (not part of `workloads()`). */
  startOther(name: string, options?: Parameters<typeof startEchoServer>[1]): Promise<EchoServer>;
  /** Workloads for every server `start` and `startVersions` gave. */
  workloads(): RegisteredWorkload[];
  open(yaml: string, workloads?: readonly RegisteredWorkload[], options?: OpenOptions): MeshedClient;
  /** A second client of an already open mesh (another target, or the same one). */
  client(target: string, options?: OpenOptions): EchoClient;
  close(): Promise<void>;
}

export function createScenario(): Scenario {
  let servers: EchoServer[] = [];
  let registered: RegisteredWorkload[] = [];
  let clients: EchoClient[] = [];
  let meshes: Mesh[] = [];
  let stops: (() => void)[] = [];
  const scenario: Scenario = {
    async start(count) {
      const started: EchoServer[] = [];
      for (let i = 0; i < count; i++) {
        const server = await startEchoServer(`${SERVICE}-${servers.length}`);
        servers.push(server);
        started.push(server);
        registered.push(grpcWorkload(SERVICE, server.name, server.port));
      }
      return started;
    },
    async startVersions(versions) {
      const byVersion = new Map<string, EchoServer>();
      for (const version of versions) {
        const server = await startEchoServer(`${SERVICE}-${version}`);
        servers.push(server);
        byVersion.set(version, server);
        registered.push(grpcWorkload(SERVICE, server.name, server.port, { version }));
      }
      return byVersion;
    },
    async startOther(name, options) {
      const server = await startEchoServer(name, options);
      servers.push(server);
      return server;
    },
    workloads: () => [...registered],
    open(yaml, workloads = scenario.workloads(), options = {}) {
      const mesh = createMesh({
        workload: {
          name: 'productpage-v1',
          namespace: 'default',
          serviceAccount: 'productpage',
          labels: { app: 'productpage', version: 'v1' },
        },
        config: { yaml },
        workloads,
        random: seededRandom(options.seed ?? 7),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.meshOptions === undefined ? {} : { mesh: options.meshOptions }),
      });
      meshes.push(mesh);
      const events = record(mesh);
      const { target = TARGET, clock: _clock, seed: _seed, meshOptions: _mesh, ...clientOptions } = options;
      const client = createMeshClient(mesh, EchoClientConstructor, target, clientOptions);
      clients.push(client);
      return { mesh, client, events };
    },
    client(target, options = {}) {
      const mesh = meshes[meshes.length - 1];
      if (mesh === undefined) throw new Error('open a mesh first');
      const { target: _target, clock: _clock, seed: _seed, meshOptions: _mesh, ...clientOptions } = options;
      const client = createMeshClient(mesh, EchoClientConstructor, target, clientOptions);
      clients.push(client);
      return client;
    },
    async close() {
      for (const stop of stops) stop();
      for (const server of servers) await server.close();
      for (const client of clients) client.close();
      for (const mesh of meshes) mesh.close();
      servers = [];
      registered = [];
      clients = [];
      meshes = [];
      stops = [];
    },
  };

  function record(mesh: Mesh): Recorded {
    const recorded: Recorded = {
      retry: [],
      outlier: [],
      overflow: [],
      fault: [],
      breaker: [],
      calls: [],
      attempts: [],
    };
    const grpc = grpcEvents(mesh);
    stops.push(
      mesh.events.retry.on((event) => recorded.retry.push(event)),
      mesh.events.outlier.on((event) => recorded.outlier.push(event)),
      mesh.events.overflow.on((event) => recorded.overflow.push(event)),
      mesh.events.fault.on((event) => recorded.fault.push(event)),
      mesh.events.breaker.on((event) => recorded.breaker.push(event)),
      grpc.call.on((event) => recorded.calls.push(event)),
      grpc.attempt.on((event) => recorded.attempts.push(event)),
    );
    return recorded;
  }

  return scenario;
}

/** Counts of the servers' names in replies: who answered how often. */
export function countBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const name = key(item);
    if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}
