import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import {
  type CreateMeshOptions,
  createMesh,
  type FaultEvent,
  type Mesh,
  type OutlierEvent,
  type PoolOverflowEvent,
  type RegisteredWorkload,
  type RetryEvent,
  seededRandom,
} from '@weft/core';
import { type Dispatcher, request } from 'undici';
import { createMeshDispatcher, RESPONSE_FLAGS_HEADER } from '../../src/index.ts';
import type { MeshClient } from './mesh-fixture.ts';

// Extends support/upstream.ts (not edited: others own it) with the behaviours resilience tests
// need — a reset as soon as the request head arrives, a response whose body trickles — and with
// what the upstream saw of connections: how many requests were left unanswered when their
// connection closed (bad-inputs C2: a hung request must be destroyed, not leaked).

/** What an upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export type Behaviour =
  | {
      readonly kind: 'respond';
      readonly status?: number;
      readonly body?: string;
      readonly headers?: Record<string, string>;
    }
  /** Reads the whole request, then resets the connection (RST) without answering. */
  | { readonly kind: 'reset' }
  /** Resets the connection (RST) as soon as the request head arrives, before reading its body. */
  | { readonly kind: 'reset-on-head' }
  /** Reads the request and never answers. */
  | { readonly kind: 'hang' }
  | { readonly kind: 'delay'; readonly ms: number; readonly status?: number }
  /** Sends 200 and its headers at once, then one byte of body every `intervalMs`, `bytes` in all. */
  | { readonly kind: 'trickle'; readonly intervalMs: number; readonly bytes: number };

export interface ObservedUpstream {
  readonly name: string;
  readonly port: number;
  /** Requests read in full, in arrival order. */
  readonly seen: SeenRequest[];
  /** Requests whose head arrived (counts those reset before their body was read). */
  readonly heads: number;
  /** Requests still waiting for an answer whose connection closed under them. */
  readonly abandoned: number;
  /** Requests this upstream has not finished answering and whose connection is still open. */
  readonly open: number;
  behave(next: (request: SeenRequest, index: number) => Behaviour): void;
  /** Per request head (before the body): `reset-on-head` here resets without reading the body. */
  behaveOnHead(next: (index: number) => Behaviour | undefined): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 and an ephemeral port, answering 200 with its name by default. */
export async function startObservedUpstream(name: string): Promise<ObservedUpstream> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let heads = 0;
  let abandoned = 0;
  let open = 0;
  let behaviour: (request: SeenRequest, index: number) => Behaviour = () => ({ kind: 'respond' });
  let onHead: (index: number) => Behaviour | undefined = () => undefined;
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const headIndex = heads++;
    open++;
    let isAnswered = false;
    response.on('close', () => {
      open--;
      if (!isAnswered || !response.writableFinished) abandoned++;
    });
    if (onHead(headIndex)?.kind === 'reset-on-head') {
      request.socket.resetAndDestroy();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const record: SeenRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(record);
      const plan = behaviour(record, seen.length - 1);
      const answer = (status = 200, body = name, headers: Record<string, string> = {}) => {
        isAnswered = true;
        response.writeHead(status, { 'content-type': 'text/plain', 'x-upstream': name, ...headers });
        response.end(body);
      };
      const later = (ms: number, run: () => void) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          run();
        }, ms);
        timers.add(timer);
      };
      switch (plan.kind) {
        case 'respond':
          answer(plan.status, plan.body, plan.headers);
          break;
        case 'reset':
        case 'reset-on-head':
          request.socket.resetAndDestroy();
          break;
        case 'hang':
          break;
        case 'delay':
          later(plan.ms, () => answer(plan.status));
          break;
        case 'trickle': {
          isAnswered = true;
          response.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
          response.flushHeaders();
          let sent = 0;
          const drip = () => {
            if (response.destroyed) return;
            response.write('.');
            sent++;
            if (sent >= plan.bytes) response.end();
            else later(plan.intervalMs, drip);
          };
          later(plan.intervalMs, drip);
          break;
        }
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    port,
    seen,
    get heads() {
      return heads;
    },
    get abandoned() {
      return abandoned;
    },
    get open() {
      return open;
    },
    behave(next) {
      behaviour = next;
    },
    behaveOnHead(next) {
      onHead = next;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts `count` upstreams named `<service>-<i>`. */
export async function startUpstreams(service: string, count: number): Promise<ObservedUpstream[]> {
  const upstreams: ObservedUpstream[] = [];
  for (let i = 0; i < count; i++) upstreams.push(await startObservedUpstream(`${service}-${i}`));
  return upstreams;
}

export async function closeAll(upstreams: readonly ObservedUpstream[]): Promise<void> {
  for (const upstream of upstreams) await upstream.close();
}

/** A loopback port that nothing listens on (it was bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One workload of `service` on 127.0.0.1, serving the service's port 9080 on `port`. */
export function workload(
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
  };
}

/** A workload per upstream, all of one service (and so one cluster unless subsets split them). */
export function workloadsFor(
  service: string,
  upstreams: readonly ObservedUpstream[],
  labels: Record<string, string> = {},
): RegisteredWorkload[] {
  return upstreams.map((upstream) => workload(service, upstream.name, upstream.port, labels));
}

export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The response body, or undefined when reading it failed (`bodyError` says how). */
  readonly body: string | undefined;
  readonly bodyError: Error | undefined;
  /** The mesh's response flags, split; empty when the response carries none. */
  readonly flags: readonly string[];
  /** Who answered (`x-upstream`), when an upstream did. */
  readonly upstream: string | undefined;
}

export interface CallOptions {
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: string | Readable;
  readonly signal?: AbortSignal;
}

/** One request through the meshed dispatcher; a broken response body is reported, not thrown. */
export async function call(
  dispatcher: Dispatcher,
  url: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const response = await request(url, {
    dispatcher,
    method: options.method ?? 'GET',
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  let body: string | undefined;
  let bodyError: Error | undefined;
  try {
    body = await response.body.text();
  } catch (error) {
    bodyError = error as Error;
  }
  const flags = response.headers[RESPONSE_FLAGS_HEADER];
  const upstream = response.headers['x-upstream'];
  return {
    status: response.statusCode,
    headers: response.headers,
    body,
    bodyError,
    flags: typeof flags === 'string' ? flags.split(',') : [],
    upstream: typeof upstream === 'string' ? upstream : undefined,
  };
}

/** A request body streamed in `chunkBytes` pieces, `totalBytes` long, of a repeating pattern. */
export function streamedBody(totalBytes: number, chunkBytes = 4096): { stream: Readable; text: string } {
  const text = Array.from({ length: totalBytes }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  async function* chunks() {
    for (let offset = 0; offset < totalBytes; offset += chunkBytes) {
      yield Buffer.from(text.slice(offset, offset + chunkBytes));
    }
  }
  return { stream: Readable.from(chunks()), text };
}

/** Everything the mesh reported while the recorder was attached. */
export interface MeshEvents {
  readonly retry: RetryEvent[];
  readonly outlier: OutlierEvent[];
  readonly overflow: PoolOverflowEvent[];
  readonly fault: FaultEvent[];
  stop(): void;
}

export function recordEvents(mesh: Mesh): MeshEvents {
  const retry: RetryEvent[] = [];
  const outlier: OutlierEvent[] = [];
  const overflow: PoolOverflowEvent[] = [];
  const fault: FaultEvent[] = [];
  const disposers = [
    mesh.events.retry.on((event) => retry.push(event)),
    mesh.events.outlier.on((event) => outlier.push(event)),
    mesh.events.overflow.on((event) => overflow.push(event)),
    mesh.events.fault.on((event) => fault.push(event)),
  ];
  return {
    retry,
    outlier,
    overflow,
    fault,
    stop() {
      for (const dispose of disposers) dispose();
    },
  };
}

/**
 * Waits until `condition` holds, polling every 5 ms, for at most `limitMs`; returns whether it
 * held. Tests assert on the result, so a condition that never holds fails instead of hanging.
 */
export async function eventually(condition: () => boolean, limitMs = 2000): Promise<boolean> {
  const rounds = Math.ceil(limitMs / 5);
  for (let round = 0; round < rounds; round++) {
    if (condition()) return true;
    await sleep(5);
  }
  return condition();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A VirtualService for `host` whose single http route goes to `host`, with extra route fields. */
export function virtualService(host: string, routeFields = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  http:
  - route: [{ destination: { host: ${host} } }]
${routeFields
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => `    ${line}`)
  .join('\n')}
`;
}

/** A DestinationRule for `host` with the given trafficPolicy (YAML flow or block, indented by us). */
export function destinationRule(host: string, trafficPolicy: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
  trafficPolicy:
${trafficPolicy
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => `    ${line}`)
  .join('\n')}
`;
}

/**
 * mesh-fixture's meshClient (the productpage caller, seeded randomness) with extra createMesh
 * options, e.g. Weft's `circuitBreakers`. Only `mesh`, `dispatcher` and `close` are meant for use.
 */
export function meshClientWith(
  yaml: string,
  workloads: readonly RegisteredWorkload[],
  options: Omit<CreateMeshOptions, 'workload' | 'config' | 'workloads'>,
  seed = 7,
): Pick<MeshClient, 'mesh' | 'dispatcher' | 'close'> {
  const mesh = createMesh({
    workload: {
      name: 'productpage-v1',
      namespace: 'default',
      serviceAccount: 'productpage',
      labels: { app: 'productpage', version: 'v1' },
    },
    config: { yaml },
    workloads,
    random: seededRandom(seed),
    ...options,
  });
  const dispatcher = createMeshDispatcher(mesh);
  return {
    mesh,
    dispatcher,
    async close() {
      await dispatcher.close();
      mesh.close();
    },
  };
}
