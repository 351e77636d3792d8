/**
 * What the mesh costs a gRPC client (issue 7, reference/benchmarks.md §5 S6): @grpc/grpc-js
 * unary and server-streaming calls, plain against the same calls through @weft/grpc.
 *
 * The origin runs in a child process (this file, started with --origin), so its CPU is counted
 * apart from the client's: two grpc-js servers on 127.0.0.1 with a generic (no protobuf) service,
 * `Unary` answering a 2-byte request with 2 bytes and `Stream` answering with 10 messages of 2
 * bytes. In this process each variant owns its client (and so its channel):
 *   - S0: `s0-unary`, `s0-stream` — a plain grpc-js client of `127.0.0.1:<port>`;
 *   - S6: `mesh-unary-default`, `mesh-unary`, `mesh-unary-lb2`, `mesh-stream` — the same calls to
 *     `weft:///origin.default:9080` through createMeshClient: `-default` with no VirtualService or
 *     DestinationRule; the others with everything the HTTP benchmark's `all` has (a header route
 *     that misses, a catch-all with timeout 5s, 2 retries × perTryTimeout 2s, fault delay and abort
 *     at 0%, LEAST_REQUEST, outlier detection); `-lb2` balances over both origin servers.
 *   - mTLS: `s0-unary-mtls` — a plain grpc-js client with TLS credentials (the client's SVID, the
 *     test root, no hostname check) to a grpc-js TLS server requiring client certificates;
 *     `mesh-unary-mtls` — the mesh client with the workload identity (auto-mTLS: the workload's
 *     SVID, the server's SPIFFE ID checked) to that same server; `mesh-unary-mtls-server` — the
 *     same client to a @weft/grpc MeshServer under PeerAuthentication STRICT (its server CPU
 *     column prices the mesh's inbound side: first-byte routing, TLS, SPIFFE check, policies,
 *     telemetry hooks). SVIDs come from a throwaway P-256 CA made at start.
 * Each round runs every variant between two windows of its S0 baseline (support/plan.ts), in a
 * closed loop at concurrency 16 (CPU µs per call: process.cpuUsage for the client,
 * /proc/<pid>/stat for the origin; throughput against S0) and in ping-pong (p50/p99 latency). The
 * report gives the median (min…max) over rounds of each window against its two neighbours. Every
 * call must succeed with the expected reply, and the origin must have served exactly as many
 * calls as the client completed, or the run fails.
 *
 * Run: npm run bench:grpc                 (about 5 minutes; --quick: about 30 s)
 *      node --conditions=@weft/source bench/grpc.ts [--quick] [--rounds=N] [--seconds=S] [--pin]
 *           [--only=mesh-unary,…] [--max-other-cpu=%]
 * A JSON record goes to bench/results/; the Markdown table goes to stdout.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  type requestCallback,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  type ConfigIssue,
  createMesh,
  type IdentityMaterial,
  type IdentitySource,
  MESH_TLS_MODE,
  type Mesh,
  type RegisteredWorkload,
  TLS_MODE_LABEL,
} from '../packages/core/src/index.ts';
import { createTestCa } from '../packages/core/src/testing.ts';
import { createMeshClient, createMeshServer } from '../packages/grpc/src/index.ts';
import { pinToCpu } from './support/affinity.ts';
import { closeChild, nextMessage } from './support/child-process.ts';
import { MICROS_PER_TICK, processCpuMicros, selfCpuMicros, systemBusyMicros } from './support/cpu-time.ts';
import { closedLoop, pingPong, type Send } from './support/load.ts';
import { describeMachine } from './support/machine.ts';
import { roundPlan } from './support/plan.ts';
import { markdownTable } from './support/report.ts';
import { exitUnlessSourceCondition } from './support/source-condition.ts';
import { percentileOfSorted } from './support/stats.ts';
import { type Measurement, type Shape, summarize } from './support/summary.ts';

const STREAM_MESSAGES = 10;
const PAYLOAD = Buffer.from('ok');
const identity = (buffer: Buffer) => buffer;

/** A generic service: raw bytes both ways, so the figures hold no protobuf cost. */
const SERVICE: ServiceDefinition = {
  Unary: {
    path: '/bench.Echo/Unary',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  Stream: {
    path: '/bench.Echo/Stream',
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** The child process: `count` servers; reports its ports, and on request how many calls it served. */
async function runOrigin(count: number): Promise<void> {
  let served = 0;
  const ports: number[] = [];
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const server = new Server();
    server.addService(SERVICE, {
      Unary: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        served += 1;
        callback(null, PAYLOAD);
      },
      Stream: (call: ServerWritableStream<Buffer, Buffer>) => {
        served += 1;
        for (let message = 0; message < STREAM_MESSAGES; message++) call.write(PAYLOAD);
        call.end();
      },
    });
    ports.push(
      await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
          error === null ? resolve(port) : reject(error),
        ),
      ),
    );
    servers.push(server);
  }
  const implementation = {
    Unary: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      served += 1;
      callback(null, PAYLOAD);
    },
  };
  const startTls = async (origin: IdentityMaterial): Promise<number[]> => {
    // A grpc-js TLS server requiring a client certificate of the bench root …
    const tls = new Server();
    tls.addService(SERVICE, implementation);
    const credentials = ServerCredentials.createSsl(
      Buffer.from(origin.trustBundlePem[0] ?? ''),
      [{ cert_chain: Buffer.from(origin.certChainPem), private_key: Buffer.from(origin.keyPem) }],
      true,
    );
    const tlsPort = await new Promise<number>((resolve, reject) =>
      tls.bindAsync('127.0.0.1:0', credentials, (error, port) =>
        error === null ? resolve(port) : reject(error),
      ),
    );
    servers.push(tls);
    // … and a MeshServer of the origin workload under PeerAuthentication STRICT.
    const mesh = createMesh({
      workload: {
        name: 'origin-mesh',
        namespace: 'default',
        serviceAccount: 'origin',
        service: 'origin',
        labels: { app: 'origin', version: 'v1' },
      },
      identity: fixedIdentity(origin),
      config: { yaml: STRICT_YAML },
    });
    const meshServer = createMeshServer(mesh);
    meshServer.addService(SERVICE, implementation);
    const meshPort = await meshServer.listen(0, '127.0.0.1');
    servers.push(meshServer);
    return [tlsPort, meshPort];
  };
  process.on('message', (message: { type?: string; origin?: IdentityMaterial }) => {
    if (message.type === 'served') process.send?.({ type: 'served', served });
    if (message.type === 'tls' && message.origin !== undefined) {
      startTls(revived(message.origin)).then(
        (tlsPorts) => process.send?.({ type: 'tls-ready', ports: tlsPorts }),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
    }
  });
  process.on('disconnect', () => {
    for (const server of servers) server.forceShutdown();
    process.exit(0);
  });
  process.send?.({ type: 'ready', ports });
}

const STRICT_YAML = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: default }
spec:
  mtls: { mode: STRICT }
`;

/** Identity material after IPC (dates arrive as strings). */
function revived(material: IdentityMaterial): IdentityMaterial {
  return { ...material, notBefore: new Date(material.notBefore), notAfter: new Date(material.notAfter) };
}

function fixedIdentity(material: IdentityMaterial): IdentitySource {
  return { current: () => material, onChange: () => () => {} };
}

/** SVIDs of a throwaway P-256 root (@weft/core's test CA) for the origin (`sa/origin`) and the bench client. */
function benchIdentities(): { origin: IdentityMaterial; client: IdentityMaterial } {
  const ca = createTestCa('cluster.local', { commonName: 'bench root' });
  return { origin: ca.workload('default', 'origin'), client: ca.workload('default', 'bench-client') };
}

interface EchoClient extends Client {
  Unary(request: Buffer, callback: requestCallback<Buffer>): unknown;
  Stream(request: Buffer): NodeJS.EventEmitter;
}

const EchoClientConstructor = makeGenericClientConstructor(SERVICE, 'bench.Echo') as unknown as {
  new (...args: ConstructorParameters<ReturnType<typeof makeGenericClientConstructor>>): EchoClient;
  readonly service: ServiceDefinition;
};

function unaryCall(client: EchoClient): Send {
  return () =>
    new Promise((resolve, reject) =>
      client.Unary(PAYLOAD, (error, reply) =>
        error === null ? resolve(reply?.equals(PAYLOAD) === true) : reject(error),
      ),
    );
}

function streamCall(client: EchoClient): Send {
  return () =>
    new Promise((resolve, reject) => {
      let messages = 0;
      const stream = client.Stream(PAYLOAD);
      stream.on('data', () => {
        messages += 1;
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(messages === STREAM_MESSAGES));
    });
}

interface BenchClient {
  readonly send: Send;
  close(): void;
}

/** Where the origin serves, and the client's identity for the mTLS variants. */
interface OriginPorts {
  /** Plaintext grpc-js servers. */
  readonly plain: readonly number[];
  /** A grpc-js TLS server requiring client certificates. */
  readonly tls: number;
  /** A MeshServer under STRICT. */
  readonly meshStrict: number;
  readonly client: IdentityMaterial;
}

interface Variant {
  readonly id: string;
  readonly description: string;
  readonly baseline?: string;
  create(origin: OriginPorts): BenchClient;
}

function plainVariant(id: string, description: string, call: (client: EchoClient) => Send): Variant {
  return {
    id,
    description,
    create(origin) {
      const client = new EchoClientConstructor(`127.0.0.1:${origin.plain[0]}`, credentials.createInsecure());
      return { send: call(client), close: () => client.close() };
    },
  };
}

/** grpc-js's own mTLS: the client's SVID and the root, no name check (an SVID names no host). */
function plainMtlsVariant(id: string, description: string): Variant {
  return {
    id,
    description,
    create(origin) {
      const material = origin.client;
      const client = new EchoClientConstructor(
        `127.0.0.1:${origin.tls}`,
        credentials.createSsl(
          Buffer.from(material.trustBundlePem[0] ?? ''),
          Buffer.from(material.keyPem),
          Buffer.from(material.certChainPem),
          { checkServerIdentity: () => undefined },
        ),
      );
      return { send: unaryCall(client), close: () => client.close() };
    },
  };
}

const ALL_YAML = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: origin }
spec:
  hosts: [origin]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: origin } }]
  - route: [{ destination: { host: origin } }]
    timeout: 5s
    retries: { attempts: 2, perTryTimeout: 2s, retryOn: unavailable }
    fault:
      delay: { percentage: { value: 0 }, fixedDelay: 5s }
      abort: { percentage: { value: 0 }, grpcStatus: UNAVAILABLE }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: origin }
spec:
  host: origin
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
    outlierDetection: { consecutive5xxErrors: 5 }
`;

function originWorkloads(
  ports: readonly number[],
  endpoints: number,
  isMeshTls = false,
): RegisteredWorkload[] {
  return ports.slice(0, endpoints).map((port, i) => ({
    name: `origin-${i}`,
    namespace: 'default',
    service: 'origin',
    serviceAccount: 'origin',
    labels: { app: 'origin', version: 'v1', ...(isMeshTls ? { [TLS_MODE_LABEL]: MESH_TLS_MODE } : {}) },
    address: '127.0.0.1',
    ports: { 9080: port },
    protocols: { 9080: 'grpc' },
  }));
}

/** The client's mesh; configuration that compiles with any warning is refused. */
function benchMesh(
  yaml: string,
  workloads: readonly RegisteredWorkload[],
  identity?: IdentityMaterial,
): Mesh {
  const mesh = createMesh({
    workload: { name: 'bench-client', namespace: 'default', serviceAccount: 'bench-client', labels: {} },
    workloads,
    ...(identity === undefined ? {} : { identity: fixedIdentity(identity) }),
  });
  if (yaml === '') return mesh;
  let warnings: readonly ConfigIssue[] = [];
  const dispose = mesh.events.snapshot.on((event) => {
    warnings = event.warnings;
  });
  mesh.applyConfig({ yaml });
  dispose();
  if (warnings.length > 0)
    throw new Error(`bench config has warnings: ${warnings.map((w) => w.message).join('; ')}`);
  return mesh;
}

function meshVariant(
  id: string,
  description: string,
  options: {
    baseline: string;
    yaml: string;
    endpoints: number;
    call: (client: EchoClient) => Send;
    /** mTLS with the client's SVID to this origin port (auto-mTLS: the endpoint is marked as a mesh workload). */
    mtls?: (origin: OriginPorts) => number;
  },
): Variant {
  return {
    id,
    description,
    baseline: options.baseline,
    create(origin) {
      const mtls = options.mtls;
      const mesh =
        mtls === undefined
          ? benchMesh(options.yaml, originWorkloads(origin.plain, options.endpoints))
          : benchMesh(options.yaml, originWorkloads([mtls(origin)], 1, true), origin.client);
      const routes = mesh.outbound.routeTable('origin.default.svc.cluster.local', 9080)?.routes.length;
      if (routes !== (options.yaml === '' ? 1 : 2))
        throw new Error(`${id}: the mesh compiled ${routes} routes`);
      const client = createMeshClient(mesh, EchoClientConstructor, 'weft:///origin.default:9080');
      return {
        send: options.call(client),
        close() {
          client.close();
          mesh.close();
        },
      };
    },
  };
}

const VARIANTS: readonly Variant[] = [
  plainVariant('s0-unary', 'plain grpc-js unary call', unaryCall),
  plainVariant('s0-stream', `plain grpc-js server stream of ${STREAM_MESSAGES} messages`, streamCall),
  meshVariant('mesh-unary-default', 'unary through the mesh, no VirtualService or DestinationRule', {
    baseline: 's0-unary',
    yaml: '',
    endpoints: 1,
    call: unaryCall,
  }),
  meshVariant('mesh-unary', 'unary through the mesh, every policy on (as HTTP `all`), 1 endpoint', {
    baseline: 's0-unary',
    yaml: ALL_YAML,
    endpoints: 1,
    call: unaryCall,
  }),
  meshVariant('mesh-unary-lb2', 'as mesh-unary, balanced per call over 2 endpoints', {
    baseline: 's0-unary',
    yaml: ALL_YAML,
    endpoints: 2,
    call: unaryCall,
  }),
  meshVariant('mesh-stream', 'server stream through the mesh, every policy on, 1 endpoint', {
    baseline: 's0-stream',
    yaml: ALL_YAML,
    endpoints: 1,
    call: streamCall,
  }),
  plainMtlsVariant('s0-unary-mtls', 'plain grpc-js unary call over mTLS (createSsl) to a grpc-js TLS server'),
  meshVariant(
    'mesh-unary-mtls',
    'unary through the mesh, auto-mTLS with the workload SVID, to the same server',
    {
      baseline: 's0-unary-mtls',
      yaml: '',
      endpoints: 1,
      call: unaryCall,
      mtls: (origin) => origin.tls,
    },
  ),
  meshVariant('mesh-unary-mtls-server', 'as mesh-unary-mtls, to a @weft/grpc MeshServer under STRICT', {
    baseline: 's0-unary-mtls',
    yaml: '',
    endpoints: 1,
    call: unaryCall,
    mtls: (origin) => origin.meshStrict,
  }),
];

interface Origin {
  readonly pid: number;
  readonly ports: OriginPorts;
  served(): Promise<number>;
  close(): Promise<void>;
}

/** What the origin child answers: its ports, or how many requests it served. */
interface OriginReply {
  readonly ports?: number[];
  readonly served?: number;
}

async function startOrigin(servers: number): Promise<Origin> {
  const child = fork(new URL(import.meta.url), ['--origin', String(servers)], {
    execArgv: ['--conditions=@weft/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage<OriginReply>(child, 'ready', 'origin');
  if (child.pid === undefined || ready.ports === undefined) throw new Error('origin did not start');
  const identities = benchIdentities();
  const tlsReady = nextMessage<OriginReply>(child, 'tls-ready', 'origin');
  child.send({ type: 'tls', origin: identities.origin });
  const [tls, meshStrict] = (await tlsReady).ports ?? [];
  if (tls === undefined || meshStrict === undefined) throw new Error('origin did not start its TLS servers');
  const pid = child.pid;
  return {
    pid,
    ports: { plain: ready.ports, tls, meshStrict, client: identities.client },
    async served() {
      const reply = nextMessage<OriginReply>(child, 'served', 'origin');
      child.send({ type: 'served' });
      return (await reply).served ?? Number.NaN;
    },
    close: () => closeChild(child),
  };
}

async function runBenchmark(): Promise<void> {
  exitUnlessSourceCondition('bench/grpc.ts');
  const { values: flags } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      'max-other-cpu': { type: 'string' },
      pin: { type: 'boolean', default: false },
    },
  });
  const isQuick = flags.quick === true;
  const concurrency = 16;
  const settings = {
    mode: isQuick ? 'quick' : 'full',
    concurrency,
    rounds: Number(flags.rounds ?? (isQuick ? 2 : 5)),
    initialWarmupMs: isQuick ? 300 : 2000,
    warmupMs: isQuick ? 50 : 250,
    closedMs: flags.seconds === undefined ? (isQuick ? 300 : 2000) : Number(flags.seconds) * 667,
    pingPongMs: flags.seconds === undefined ? (isQuick ? 150 : 1000) : Number(flags.seconds) * 333,
    maxOtherCpuPercent: Number(flags['max-other-cpu'] ?? 10),
    maxAttempts: isQuick ? 2 : 4,
    quietWaitBudgetMs: isQuick ? 5_000 : 300_000,
    isPinned: flags.pin === true,
  };
  const wanted = flags.only === undefined ? undefined : new Set(flags.only.split(',').map((id) => id.trim()));
  if (wanted !== undefined)
    for (const variant of VARIANTS)
      if (wanted.has(variant.id) && variant.baseline) wanted.add(variant.baseline);
  const variants = VARIANTS.filter((variant) => wanted === undefined || wanted.has(variant.id));

  const machine = describeMachine();
  const origin = await startOrigin(2);
  if (settings.isPinned) {
    pinToCpu(process.pid, 0);
    pinToCpu(origin.pid, 1);
  }
  const clients = new Map<string, BenchClient>();
  const latencyBuffer = new Float64Array(1 << 20);
  const measurements: Measurement[] = [];
  const discarded: Measurement[] = [];
  let firstError: string | undefined;
  let quietBudgetMs = settings.quietWaitBudgetMs;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const otherLimit = (windowMs: number) =>
    settings.maxOtherCpuPercent + (100 * 2 * os.availableParallelism() * MICROS_PER_TICK) / (windowMs * 1000);

  const warm = async (send: Send, closedMs: number, pingPongMs: number) => {
    const runs = [
      ...(closedMs > 0 ? [await closedLoop(send, concurrency, closedMs)] : []),
      ...(pingPongMs > 0 ? [await pingPong(send, pingPongMs, latencyBuffer)] : []),
    ];
    for (const run of runs) if (run.firstError !== undefined) firstError ??= run.firstError;
  };

  const waitForQuiet = async () => {
    while (quietBudgetMs > 0) {
      const systemBefore = systemBusyMicros();
      const ownBefore = selfCpuMicros() + processCpuMicros(origin.pid);
      await sleep(500);
      const ownUs = selfCpuMicros() + processCpuMicros(origin.pid) - ownBefore;
      if ((100 * (systemBusyMicros() - systemBefore - ownUs)) / 500_000 <= otherLimit(500)) return;
      await sleep(1000);
      quietBudgetMs -= 1500;
    }
  };

  const measure = async (
    variant: Variant,
    round: number,
    shape: Shape,
    position: number,
  ): Promise<Measurement> => {
    const send = (clients.get(variant.id) as BenchClient).send;
    await warm(send, shape === 'closed' ? settings.warmupMs : 0, shape === 'closed' ? 0 : settings.warmupMs);
    const servedBefore = await origin.served();
    const systemBefore = systemBusyMicros();
    const clientBefore = selfCpuMicros();
    const serverBefore = processCpuMicros(origin.pid);
    const counts =
      shape === 'closed'
        ? await closedLoop(send, concurrency, settings.closedMs)
        : await pingPong(send, settings.pingPongMs, latencyBuffer);
    const clientUs = selfCpuMicros() - clientBefore;
    const serverUs = processCpuMicros(origin.pid) - serverBefore;
    const systemUs = systemBusyMicros() - systemBefore;
    const originServed = (await origin.served()) - servedBefore;
    const elapsedUs = Number(counts.elapsedNs) / 1000;
    let percentiles = {};
    if ('latenciesUs' in counts) {
      const sorted = Float64Array.from(counts.latenciesUs as Float64Array).sort();
      percentiles = { p50Us: percentileOfSorted(sorted, 50), p99Us: percentileOfSorted(sorted, 99) };
    }
    if (counts.firstError !== undefined) firstError ??= `${variant.id}: ${counts.firstError}`;
    if (originServed !== counts.requests)
      firstError ??= `${variant.id}: the origin served ${originServed} calls, the client completed ${counts.requests}`;
    return {
      variant: variant.id,
      round,
      shape,
      position,
      requests: counts.requests,
      errors: counts.errors,
      ...(counts.firstError === undefined ? {} : { firstError: counts.firstError }),
      elapsedMs: Number((elapsedUs / 1000).toFixed(1)),
      requestsPerSecond: Math.round(counts.requests / (elapsedUs / 1e6)),
      clientCpuUsPerRequest: clientUs / counts.requests,
      serverCpuUsPerRequest: serverUs / counts.requests,
      otherCpuPercent: Number(((100 * Math.max(0, systemUs - clientUs - serverUs)) / elapsedUs).toFixed(1)),
      originServed,
      ...percentiles,
    };
  };

  const measureQuietly = async (variant: Variant, round: number, shape: Shape, position: number) => {
    for (let attempt = 1; ; attempt++) {
      await waitForQuiet();
      const measurement = await measure(variant, round, shape, position);
      const isDisturbed = measurement.otherCpuPercent > otherLimit(measurement.elapsedMs);
      if (!isDisturbed) return measurement;
      if (attempt === settings.maxAttempts) return { ...measurement, isDisturbed };
      discarded.push(measurement);
    }
  };

  const startedAt = new Date();
  try {
    for (const variant of variants) {
      const client = variant.create(origin.ports);
      clients.set(variant.id, client);
      if (!(await client.send())) throw new Error(`${variant.id}: the first call did not succeed`);
    }
    console.error(`warming up ${variants.length} variants…`);
    for (const variant of variants) {
      const send = (clients.get(variant.id) as BenchClient).send;
      await warm(send, settings.initialWarmupMs * 0.6, settings.initialWarmupMs * 0.4);
    }
    for (let round = 0; round < settings.rounds; round++) {
      console.error(`round ${round + 1}/${settings.rounds}`);
      for (const shape of ['closed', 'ping-pong'] as const) {
        for (const [position, id] of roundPlan(variants, round).entries()) {
          const variant = variants.find((candidate) => candidate.id === id) as Variant;
          measurements.push(await measureQuietly(variant, round, shape, position));
        }
      }
    }
  } finally {
    for (const client of clients.values()) client.close();
    await origin.close();
  }

  const summaries = variants.map((variant) =>
    summarize(
      measurements,
      variant.id,
      variants.some((candidate) => candidate.id === variant.baseline) ? variant.baseline : undefined,
    ),
  );
  const totalErrors = summaries.reduce((sum, summary) => sum + summary.errors, 0);
  const otherCpu = measurements.map((m) => m.otherCpuPercent).sort((a, b) => a - b);
  const disturbed = measurements.filter((m) => m.isDisturbed === true).length;
  const grpcVersion = (createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version: string })
    .version;
  const record = {
    scenario: 'grpc-overhead',
    startedAt: startedAt.toISOString(),
    argv: process.argv.slice(2),
    machine: {
      ...machine,
      grpcJs: grpcVersion,
      loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    settings,
    variants: variants.map(({ id, description, baseline }) => ({ id, description, baseline })),
    isOk: totalErrors === 0 && firstError === undefined,
    firstError,
    summaries,
    measurements,
    discarded,
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(
    `./results/grpc-overhead-${settings.mode}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
    import.meta.url,
  );
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);

  console.log(
    `## gRPC client overhead (${settings.mode}: ${settings.rounds} rounds; per variant and round ` +
      `${settings.closedMs} ms closed loop at c=${concurrency} + ${settings.pingPongMs} ms ping-pong)\n`,
  );
  console.log(
    `${machine.cpuModel}, ${machine.nproc} CPUs, Linux ${machine.kernel}; Node ${machine.node}, ` +
      `@grpc/grpc-js ${grpcVersion}; commit ${machine.commit}; load average at start ` +
      `${machine.loadAverageAtStart.join(' ')}; CPU of other processes during windows: median ` +
      `${otherCpu[Math.floor(otherCpu.length / 2)] ?? 0}%, max ${otherCpu[otherCpu.length - 1] ?? 0}% of one CPU; ` +
      `${discarded.length} windows measured again, ${disturbed} of ${measurements.length} still disturbed and left out\n`,
  );
  console.log(markdownTable(summaries));
  console.log(
    '\nPer call (a stream call is one request and 10 replies). Median over windows (min…max); Δ and % ' +
      'compare each window with the mean of the two `vs` windows run just before and after it.',
  );
  console.log(`\nRecord: ${file.pathname}`);
  if (totalErrors > 0 || firstError !== undefined) {
    console.error(`FAILED: ${totalErrors} errors; first: ${firstError}`);
    process.exitCode = 1;
  }
}

// Last, so every declaration above is initialized: the same file is the origin's child process.
if (process.argv.includes('--origin')) {
  await runOrigin(Number(process.argv[process.argv.indexOf('--origin') + 1] ?? '2'));
} else {
  await runBenchmark();
}
