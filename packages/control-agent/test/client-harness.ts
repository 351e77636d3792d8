/**
 * Shared by the agent-client tests (client-*.test.ts): Bookinfo-like fixtures, real agents on
 * 127.0.0.1 over MemoryStores, a mesh and a client with its events logged, a relay that can
 * stall a connection, and bounded waiting. Everything started registers its teardown in
 * `cleanups`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMesh, type Mesh, type RegisteredWorkload, type RevisionMark } from '@weft/core';
import { expect } from 'vitest';
import { type AgentClient, connectToAgent } from '../../core/src/agent-client/agent-client.ts';
import type { AgentClientOptions } from '../../core/src/agent-client/agent-client-options.ts';
import { type Agent, type AgentOptions, createAgent, type Store } from '../src/index.ts';
import { MemoryStore } from '../src/store/memory-store.ts';
import type { ResourceWrite } from '../src/store/store.ts';

export const HEARTBEAT_MS = 100;
export const REVIEWS = 'reviews.default.svc.cluster.local';

// ---- fixtures -------------------------------------------------------------------------------------

export function virtualService(name: string, spec: unknown): ResourceWrite {
  return {
    resource: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name, namespace: 'default' },
      spec,
    },
  };
}

/** reviews: everything to v1, or to the subset given. */
export function reviewsRoute(subset = 'v1', routeName = `to-${subset}`): ResourceWrite {
  return virtualService('reviews', {
    hosts: ['reviews'],
    http: [{ name: routeName, route: [{ destination: { host: 'reviews', subset } }] }],
  });
}

export const reviewsSubsets: ResourceWrite = {
  resource: {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'reviews', namespace: 'default' },
    spec: {
      host: 'reviews',
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    },
  },
};

export function reviewsWorkload(version: string, port: number): RegisteredWorkload {
  return {
    name: `reviews-${version}-0`,
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'bookinfo-reviews',
    labels: { app: 'reviews', version },
    address: '127.0.0.1',
    ports: { 9080: port },
  };
}

export async function seed(store: MemoryStore): Promise<void> {
  const put = await store.putResources([reviewsSubsets, reviewsRoute('v1')]);
  expect(put.ok).toBe(true);
  await store.registerWorkload(reviewsWorkload('v1', 19080), 60_000);
  await store.registerWorkload(reviewsWorkload('v2', 19081), 60_000);
}

// ---- harness --------------------------------------------------------------------------------------

/** Teardown steps of the running test, run in reverse by `runCleanups` (each file's afterEach). */
export const cleanups: (() => Promise<unknown> | unknown)[] = [];

export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export function newMesh(): Mesh {
  const mesh = createMesh({
    workload: {
      name: 'productpage-v1-0',
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
      labels: { app: 'productpage', version: 'v1' },
      service: 'productpage',
    },
  });
  cleanups.push(() => mesh.close());
  return mesh;
}

export async function startAgent(
  store: Store,
  options: Partial<Omit<AgentOptions, 'store'>> = {},
): Promise<Agent> {
  const agent = await createAgent({ store, heartbeatMs: HEARTBEAT_MS, coalesceWindowMs: 0, ...options });
  cleanups.push(() => agent.close());
  return agent;
}

export async function newStore(dataDir?: string): Promise<MemoryStore> {
  const store = await MemoryStore.open(dataDir === undefined ? {} : { dataDir });
  cleanups.push(() => store.close());
  return store;
}

export interface Recorded {
  readonly client: AgentClient;
  readonly seen: {
    applied: string[];
    nacks: string[];
    nackMarks: RevisionMark[];
    states: string[];
    connections: string[];
    emptied: number;
  };
}

/** A client with short back-off, and a log of its events. */
export function connect(mesh: Mesh, options: Partial<AgentClientOptions> & { agents: string[] }): Recorded {
  const client = connectToAgent(mesh, { backoff: { baseMs: 20, maxMs: 200 }, ...options });
  cleanups.push(() => client.close());
  const seen: Recorded['seen'] = {
    applied: [],
    nacks: [],
    nackMarks: [],
    states: [],
    connections: [],
    emptied: 0,
  };
  client.events.applied.on((event) =>
    seen.applied.push(
      `${event.source}@${event.mark.revision}${event.resync === undefined ? '' : `:${event.resync}`}`,
    ),
  );
  client.events.nack.on((event) => {
    seen.nacks.push(event.error.message);
    seen.nackMarks.push(event.mark);
  });
  client.events.state.on((event) => seen.states.push(event.state));
  client.events.connection.on((event) => seen.connections.push(`${event.type} ${event.agent}`));
  client.events.emptied.on(() => {
    seen.emptied += 1;
  });
  return { client, seen };
}

/** Waits until `condition` holds, polling every 10 ms, for at most `limitMs`; returns whether it held. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  limitMs = 3_000,
): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

/** The subsets reviews:9080 routes to, as this mesh sees it now. */
export function reviewsSubsetsRouted(mesh: Mesh): string[] {
  const table = mesh.outbound.routeTable(REVIEWS, 9080);
  return (table?.routes ?? []).flatMap((route) =>
    route.destinations.map((destination) => destination.subset ?? '-'),
  );
}

export function reviewsEndpoints(mesh: Mesh, subset: string): number[] {
  const route = mesh.outbound.routeTable(REVIEWS, 9080)?.routes[0];
  const destination = route?.destinations.find((candidate) => candidate.subset === subset);
  if (destination === undefined) return [];
  return (mesh.outbound.cluster(destination)?.endpoints ?? []).map((endpoint) => endpoint.port);
}

export interface ClientView {
  readonly clientId: string;
  readonly connected: boolean;
  readonly status: string;
  readonly acked: { epoch: string; revision: number } | null;
  readonly nacked: { epoch: string; revision: number } | null;
  readonly error: string | null;
  readonly nacks: number;
  readonly snapshotsSent: number;
  readonly deltasSent: number;
}

export async function clientView(agent: Agent, clientId: string): Promise<ClientView | undefined> {
  const answer = (await (await fetch(`${agent.url}/v1/clients`)).json()) as { clients: ClientView[] };
  return answer.clients.find((client) => client.clientId === clientId);
}

export async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'weft-client-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

/**
 * A TCP relay to an agent whose open connections can be frozen: the sockets stay up but no byte
 * from the agent reaches the client (bad-inputs B4, "TCP alive, no bytes"). New connections
 * are relayed normally.
 */
export async function stallableRelay(target: Agent): Promise<{ url: string; stall: () => void }> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const server = createServer((client) => {
    const upstream = new (client.constructor as typeof Socket)();
    upstream.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const port = await listen(server);
  // Runs before the server's close, which waits for its connections.
  cleanups.push(() => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stall: () => {
      for (const { client, upstream } of pairs) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
  };
}
