/**
 * What the chaos scenarios (test/chaos-*.test.ts) share: a caller's mesh fed by a real agent, a
 * meshed undici dispatcher, closed-loop load that records every outcome with its time, admin
 * calls, and the arithmetic of "what was lost" and "how long recovery took". Everything started
 * registers its teardown in `cleanups` (run by each file's afterEach).
 */
import { appendFileSync } from 'node:fs';
import {
  type AgentClient,
  type AgentClientOptions,
  connectToAgent,
  createMesh,
  type Mesh,
  type RegisteredWorkload,
  seededRandom,
} from '@weft/core';
import { createMeshDispatcher, RESPONSE_FLAGS_HEADER } from '@weft/http';
import { type Dispatcher, request } from 'undici';

export const cleanups: (() => Promise<unknown> | unknown)[] = [];

export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // A teardown step that fails (a process already gone) must not skip the others.
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms for at most `limitMs`; resolves with the ms it took, or undefined. */
export async function timeUntil(
  condition: () => boolean | Promise<boolean>,
  limitMs: number,
): Promise<number | undefined> {
  const startedAtMs = performance.now();
  const deadline = startedAtMs + limitMs;
  while (performance.now() < deadline) {
    if (await condition()) return performance.now() - startedAtMs;
    await sleep(10);
  }
  return (await condition()) ? performance.now() - startedAtMs : undefined;
}

// ---- the caller ---------------------------------------------------------------------------------

/**
 * productpage, the caller in every scenario. REGISTRY_ONLY: a host the mesh does not know fails
 * with 502 NR instead of going to DNS, so no test ever sends a lookup beyond loopback.
 */
export function callerMesh(options: { readonly seed?: number } = {}): Mesh {
  const mesh = createMesh({
    workload: {
      name: 'productpage-v1-0',
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
      labels: { app: 'productpage', version: 'v1' },
      service: 'productpage',
    },
    mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' },
    random: seededRandom(options.seed ?? 7),
  });
  cleanups.push(() => mesh.close());
  return mesh;
}

/** The mesh of another workload (e.g. an upstream endpoint that registers itself). */
export function workloadMesh(workload: RegisteredWorkload): Mesh {
  const mesh = createMesh({
    workload: {
      name: workload.name,
      namespace: workload.namespace,
      serviceAccount: workload.serviceAccount,
      labels: workload.labels,
      service: workload.service,
    },
    mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' },
  });
  cleanups.push(() => mesh.close());
  return mesh;
}

/** A caller whose config and registry come from YAML and a workload list (no agent). */
export function staticCallerMesh(
  yaml: string,
  workloads: readonly RegisteredWorkload[],
  options: { readonly seed?: number } = {},
): Mesh {
  const mesh = createMesh({
    workload: {
      name: 'productpage-v1-0',
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
      labels: { app: 'productpage', version: 'v1' },
      service: 'productpage',
    },
    config: { yaml },
    workloads,
    mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' },
    random: seededRandom(options.seed ?? 7),
  });
  cleanups.push(() => mesh.close());
  return mesh;
}

export interface WatchedClient {
  readonly client: AgentClient;
  /** `source@revision[:resync]` per applied config, in order. */
  readonly applied: { readonly label: string; readonly revision: number; readonly atMs: number }[];
  /** `type agent` per connection event, with its time. */
  readonly connections: { readonly type: string; readonly atMs: number }[];
  readonly nacks: string[];
}

let watchedClients = 0;

export function watchAgent(
  mesh: Mesh,
  options: Partial<AgentClientOptions> & { readonly agents: readonly string[] },
): WatchedClient {
  // Meshes here share a seed, and the default client id's suffix comes from the mesh's random
  // source: two clients of one scenario would get the same id and replace each other's stream.
  watchedClients += 1;
  const client = connectToAgent(mesh, {
    backoff: { baseMs: 20, maxMs: 200 },
    clientId: `${mesh.workload.name}-${watchedClients}`,
    ...options,
  });
  cleanups.push(() => client.close());
  const watched: WatchedClient = { client, applied: [], connections: [], nacks: [] };
  client.events.applied.on((event) =>
    watched.applied.push({
      label: `${event.source}@${event.mark.revision}${event.resync === undefined ? '' : `:${event.resync}`}`,
      revision: event.mark.revision,
      atMs: performance.now(),
    }),
  );
  client.events.connection.on((event) =>
    watched.connections.push({ type: event.type, atMs: performance.now() }),
  );
  client.events.nack.on((event) => watched.nacks.push(event.error.message));
  return watched;
}

export function meshDispatcher(mesh: Mesh): Dispatcher {
  const dispatcher = createMeshDispatcher(mesh);
  cleanups.push(() => dispatcher.close());
  return dispatcher;
}

// ---- requests and load --------------------------------------------------------------------------

export interface Outcome {
  readonly startMs: number;
  readonly endMs: number;
  /** The HTTP status, or 0 when the request failed without one. */
  readonly status: number;
  readonly flags: string;
  /** Who answered (x-upstream), or the body's first bytes. */
  readonly answer: string;
  readonly error?: string;
}

export const isSuccess = (outcome: Outcome): boolean => outcome.status === 200;

/** One GET through the meshed dispatcher; never throws. */
export async function send(dispatcher: Dispatcher, url: string, timeoutMs = 5_000): Promise<Outcome> {
  const startMs = performance.now();
  try {
    const response = await request(url, { dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.body.text();
    const upstream = response.headers['x-upstream'];
    const flags = response.headers[RESPONSE_FLAGS_HEADER];
    return {
      startMs,
      endMs: performance.now(),
      status: response.statusCode,
      flags: typeof flags === 'string' ? flags : '',
      answer: typeof upstream === 'string' ? upstream : body.slice(0, 120),
    };
  } catch (error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return {
      startMs,
      endMs: performance.now(),
      status: 0,
      flags: '',
      answer: '',
      error: `${(error as Error).name}: ${(error as Error).message}${cause === undefined ? '' : ` (${String(cause)})`}`,
    };
  }
}

export interface Load {
  /** Outcomes so far, in completion order. */
  readonly outcomes: readonly Outcome[];
  /** Resolves with every outcome once the loops ended by themselves (`maxRequests`, `maxMs`). */
  finished(): Promise<readonly Outcome[]>;
  /** Stops the loops now and resolves with every outcome once the in-flight requests finished. */
  stop(): Promise<readonly Outcome[]>;
}

/**
 * Closed-loop load: `concurrency` loops each sending one request after another (with a short
 * pause) until stopped, or `maxRequests` in all. Bounded: a loop ends at `maxMs` whatever happens.
 */
export function startLoad(
  dispatcher: Dispatcher,
  url: string,
  options: {
    readonly concurrency: number;
    readonly maxMs?: number;
    readonly maxRequests?: number;
    /** Each loop waits this long between requests (2 ms by default). */
    readonly pauseMs?: number;
  },
): Load {
  const pauseMs = options.pauseMs ?? 2;
  const outcomes: Outcome[] = [];
  let isStopped = false;
  let started = 0;
  const deadline = performance.now() + (options.maxMs ?? 60_000);
  const loop = async (): Promise<void> => {
    while (!isStopped && performance.now() < deadline && started < (options.maxRequests ?? Infinity)) {
      started += 1;
      outcomes.push(await send(dispatcher, url));
      // A pause between requests keeps the load steady and modest (two cores are shared), and a
      // mesh answer (NR, UH…) involves no I/O: without it, failing loops would starve timers.
      await sleep(pauseMs);
    }
  };
  const loops = Promise.all(Array.from({ length: options.concurrency }, loop));
  return {
    outcomes,
    async finished() {
      await loops;
      return outcomes;
    },
    async stop() {
      isStopped = true;
      await loops;
      return outcomes;
    },
  };
}

export interface LoadSummary {
  readonly requests: number;
  readonly failures: number;
  readonly successRate: number;
  /** Distinct failure descriptions with their counts. */
  readonly failureKinds: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(outcomes: readonly Outcome[]): LoadSummary {
  const failed = outcomes.filter((outcome) => !isSuccess(outcome));
  const failureKinds: Record<string, number> = {};
  for (const outcome of failed) {
    const kind =
      outcome.status === 0 ? (outcome.error ?? 'error') : `${outcome.status} ${outcome.flags}`.trim();
    failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
  }
  const latencies = outcomes.map((outcome) => outcome.endMs - outcome.startMs).sort((a, b) => a - b);
  const at = (fraction: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(fraction * latencies.length))] ?? 0;
  return {
    requests: outcomes.length,
    failures: failed.length,
    successRate: outcomes.length === 0 ? 0 : (outcomes.length - failed.length) / outcomes.length,
    failureKinds,
    p50Ms: Math.round(at(0.5)),
    p99Ms: Math.round(at(0.99)),
    maxMs: Math.round(latencies.at(-1) ?? 0),
  };
}

/** Outcomes of requests that started at or after `fromMs` (and before `toMs`). */
export function between(outcomes: readonly Outcome[], fromMs: number, toMs = Infinity): Outcome[] {
  return outcomes.filter((outcome) => outcome.startMs >= fromMs && outcome.startMs < toMs);
}

/**
 * How long after `faultAtMs` requests kept failing: the end of the last failed request that
 * started after the fault, minus the fault's time (0 when none failed).
 */
export function disruptionMs(outcomes: readonly Outcome[], faultAtMs: number): number {
  const lastFailure = outcomes
    .filter((outcome) => outcome.startMs >= faultAtMs && !isSuccess(outcome))
    .reduce((latest, outcome) => Math.max(latest, outcome.endMs), faultAtMs);
  return Math.round(lastFailure - faultAtMs);
}

/**
 * Records a scenario's measured figures: as the test's annotation, and as one JSON line appended
 * to $WEFT_CHAOS_FIGURES when set (how RELIABILITY.md's figures are collected).
 */
export async function recordFigures(
  annotate: (message: string) => Promise<unknown>,
  scenario: string,
  figures: Record<string, unknown>,
): Promise<void> {
  const line = JSON.stringify({ scenario, ...figures });
  await annotate(line);
  const file = process.env.WEFT_CHAOS_FIGURES;
  if (file !== undefined && file !== '') appendFileSync(file, `${line}\n`);
}

// ---- the agent's admin API ----------------------------------------------------------------------

export interface AdminAnswer {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in assertions.
  readonly body: any;
}

export async function admin(
  agentUrl: string,
  method: string,
  path: string,
  body?: string,
  options: { readonly token?: string; readonly contentType?: string } = {},
): Promise<AdminAnswer> {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  try {
    const response = await fetch(`${agentUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let parsed: unknown = {};
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    // The agent is down: status 0, so that callers can poll until it answers.
    return { status: 0, body: { error: String(error) } };
  }
}

export function applyYaml(agentUrl: string, yaml: string, token?: string): Promise<AdminAnswer> {
  return admin(agentUrl, 'POST', '/v1/apply', yaml, {
    contentType: 'application/yaml',
    ...(token === undefined ? {} : { token }),
  });
}

export function registerWorkload(
  agentUrl: string,
  workload: RegisteredWorkload,
  ttlMs = 60_000,
  token?: string,
): Promise<AdminAnswer> {
  return admin(agentUrl, 'POST', '/v1/workloads', JSON.stringify({ ...workload, ttlMs }), {
    ...(token === undefined ? {} : { token }),
  });
}

export function deregisterWorkload(agentUrl: string, name: string, token?: string): Promise<AdminAnswer> {
  return admin(agentUrl, 'DELETE', `/v1/workloads/default/${name}`, undefined, {
    ...(token === undefined ? {} : { token }),
  });
}

// ---- config -------------------------------------------------------------------------------------

/** One workload of `service` on 127.0.0.1 serving the service port 9080 on `port`. */
export function workloadOf(service: string, name: string, port: number, version = 'v1'): RegisteredWorkload {
  return {
    name,
    namespace: 'default',
    service,
    serviceAccount: `bookinfo-${service}`,
    labels: { app: service, version },
    address: '127.0.0.1',
    ports: { 9080: port },
  };
}

/** A VirtualService for `host` with one HTTP route carrying `routeFields` (YAML, indented by the caller). */
export function virtualServiceYaml(host: string, routeFields = '', routeName = 'default'): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host}, namespace: default }
spec:
  hosts: [${host}]
  http:
  - name: ${routeName}
    route: [{ destination: { host: ${host} } }]
${routeFields
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => `    ${line}`)
  .join('\n')}
`;
}

export function destinationRuleYaml(host: string, trafficPolicy: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host}, namespace: default }
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

export const joinYaml = (...documents: string[]): string => documents.join('---\n');
