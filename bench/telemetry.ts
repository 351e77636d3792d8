/**
 * What telemetry costs a request (issue 6: at most 3 µs per request without an SDK).
 *
 * Part 1, in process, no network: the telemetry work of one outbound request exactly as the
 * HTTP client does it (startClientCall with header injection, the route name, one attempt, the
 * response, the body bytes, end), timed in batches of 100,000 requests; the median batch gives
 * ns per request. Variants: telemetry turned off (the call site alone), the default with no SDK
 * (what the aim is about), an SDK installed (tracer with a batch processor whose exporter
 * discards, meter with a reader), and an SDK plus an access log written to a discarding stream.
 *
 * Part 2 (unless --no-http): the same four variants end to end, as client CPU µs per request of
 * `GET http://origin:9080/` through createMeshDispatcher, closed loop at concurrency 16 against
 * an origin in a child process (bench/support), interleaved round by round; each variant is
 * compared with `off` of the same round.
 *
 * Run: npm run bench:telemetry        (about 1 minute)
 *      node --conditions=@weft/source bench/telemetry.ts [--rounds=N] [--seconds=S] [--no-http]
 */
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import {
  createMesh,
  type Mesh,
  type RouteRequest,
  type TelemetryOptions,
} from '../packages/core/src/index.ts';
import { createMeshDispatcher } from '../packages/http/src/index.ts';
import { selfCpuMicros } from './support/cpu-time.ts';
import { discardingSdk } from './support/discarding-sdk.ts';
import { closedLoop } from './support/load.ts';
import { describeMachine } from './support/machine.ts';
import { startOrigin } from './support/origin-process.ts';
import { exitUnlessSourceCondition } from './support/source-condition.ts';
import { median, spread } from './support/stats.ts';

exitUnlessSourceCondition('bench/telemetry.ts');

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'no-http': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(flags.rounds ?? 3);
const WINDOW_MS = Number(flags.seconds ?? 2) * 1000;
const BATCH = 100_000;
const BATCHES = 9;

const discardingStream = new Writable({
  write(_chunk, _encoding, callback) {
    callback();
  },
});

interface TelemetryVariant {
  readonly id: string;
  readonly description: string;
  options(): { telemetry: TelemetryOptions; shutdown(): Promise<void> };
}

function sdkOptions(withLog: boolean) {
  const sdk = discardingSdk();
  return {
    telemetry: {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      ...(withLog ? { accessLog: { stream: discardingStream, isEnabledByDefault: true } } : {}),
    },
    shutdown: sdk.shutdown,
  };
}

const VARIANTS: readonly TelemetryVariant[] = [
  {
    id: 'off',
    description: 'telemetry: { enabled: false } — the call site alone',
    options: () => ({ telemetry: { enabled: false }, shutdown: async () => {} }),
  },
  {
    id: 'no-sdk',
    description: 'the default, no OpenTelemetry SDK installed',
    options: () => ({ telemetry: {}, shutdown: async () => {} }),
  },
  {
    id: 'sdk',
    description: 'SDK tracer (batch processor) and meter (a reader)',
    options: () => sdkOptions(false),
  },
  {
    id: 'sdk+log',
    description: 'SDK and a JSON access log to a discarding stream',
    options: () => sdkOptions(true),
  },
];

function benchMesh(telemetry: TelemetryOptions, port: number): Mesh {
  return createMesh({
    workload: {
      name: 'bench-client',
      namespace: 'default',
      serviceAccount: 'bench',
      labels: { app: 'bench', version: 'v1' },
    },
    workloads: [
      {
        name: 'origin-0',
        namespace: 'default',
        service: 'origin',
        serviceAccount: 'origin',
        labels: { app: 'origin', version: 'v1' },
        address: '127.0.0.1',
        ports: { 9080: port },
      },
    ],
    config: { yaml: '' },
    telemetry,
  });
}

/** Part 1: ns per request of the telemetry calls MeshedRequest makes. */
async function measureCalls(
  variant: TelemetryVariant,
): Promise<{ nsPerRequest: number; min: number; max: number }> {
  const { telemetry, shutdown } = variant.options();
  const mesh = benchMesh(telemetry, 9);
  const host = mesh.outbound.resolveHost('origin') ?? '';
  const route = mesh.outbound.routeTable(host, 9080)?.routes[0];
  const destination = route?.destinations[0];
  const cluster = destination === undefined ? undefined : mesh.outbound.cluster(destination);
  const endpoint = cluster?.endpoints[0];
  if (route === undefined || cluster === undefined || endpoint === undefined) throw new Error('no route');
  // Each request has its own header record, which trace context is injected into.
  let headers: Record<string, string> = {};
  const routeRequest: RouteRequest = {
    path: '/',
    method: 'GET',
    authority: 'origin:9080',
    scheme: 'http',
    port: 9080,
    header: (name) => headers[name],
  };
  const setter = {
    set(carrier: Record<string, string>, key: string, value: string) {
      carrier[key] = value;
    },
  };
  const once = () => {
    headers = { 'user-agent': 'bench' };
    const call = mesh.telemetry.startClientCall(routeRequest, headers, setter);
    if (call === undefined) return;
    call.routeName = route.name;
    call.attemptStarted(cluster, endpoint);
    call.attemptEnded(200);
    call.responded(200);
    call.responseBytes += 2;
    call.end(null);
  };
  for (let i = 0; i < BATCH * 2; i++) once();
  const samples: number[] = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) once();
    samples.push(Number(process.hrtime.bigint() - start) / BATCH);
    // Let the batch span processor's timer run between batches, as it would between requests.
    await new Promise((resolve) => setImmediate(resolve));
  }
  mesh.close();
  await shutdown();
  const { median: nsPerRequest, min, max } = spread(samples);
  return { nsPerRequest, min, max };
}

console.log(`# Telemetry cost per request (${describeMachine().cpuModel}, Node ${process.version})\n`);
console.log('## In process: the telemetry calls of one request (median of 9 batches of 100,000)\n');
console.log('| variant | ns/request | (min…max) | description |\n| --- | --- | --- | --- |');
const inProcess = new Map<string, number>();
for (const variant of VARIANTS) {
  const { nsPerRequest, min, max } = await measureCalls(variant);
  inProcess.set(variant.id, nsPerRequest);
  console.log(
    `| ${variant.id} | ${nsPerRequest.toFixed(0)} | (${min.toFixed(0)}…${max.toFixed(0)}) | ${variant.description} |`,
  );
}
const addedNoSdkUs = ((inProcess.get('no-sdk') ?? 0) - (inProcess.get('off') ?? 0)) / 1000;
console.log(`\nno-sdk − off: ${addedNoSdkUs.toFixed(3)} µs per request (aim: ≤ 3 µs)\n`);

if (flags['no-http'] !== true) {
  const origin = await startOrigin(1);
  const port = origin.ports[0] as number;
  const clients = VARIANTS.map((variant) => {
    const { telemetry, shutdown } = variant.options();
    const mesh = benchMesh(telemetry, port);
    const dispatcher = createMeshDispatcher(mesh);
    const send = async () => {
      const response = await request('http://origin:9080/', { dispatcher });
      return response.statusCode === 200 && (await response.body.text()) === 'ok';
    };
    return { variant, mesh, dispatcher, send, shutdown };
  });
  const cpu = new Map<string, number[]>(VARIANTS.map((variant) => [variant.id, []]));
  let errors = 0;
  for (const client of clients) await closedLoop(client.send, 16, 500);
  for (let round = 0; round < ROUNDS; round++) {
    for (const client of clients) {
      const before = selfCpuMicros();
      const counts = await closedLoop(client.send, 16, WINDOW_MS);
      errors += counts.errors;
      cpu.get(client.variant.id)?.push((selfCpuMicros() - before) / counts.requests);
    }
  }
  console.log(
    `## End to end: client CPU µs per request, ${ROUNDS} rounds of ${WINDOW_MS / 1000} s, concurrency 16\n`,
  );
  console.log('| variant | client CPU µs/req | Δ vs off (median of rounds) |\n| --- | --- | --- |');
  const off = cpu.get('off') ?? [];
  for (const [id, samples] of cpu) {
    const deltas = samples.map((value, round) => value - (off[round] ?? Number.NaN));
    const { median: value, min, max } = spread(samples);
    console.log(
      `| ${id} | ${value.toFixed(1)} (${min.toFixed(1)}…${max.toFixed(1)}) | ${id === 'off' ? '—' : `${median(deltas) >= 0 ? '+' : ''}${median(deltas).toFixed(1)}`} |`,
    );
  }
  for (const client of clients) {
    await client.dispatcher.close();
    client.mesh.close();
    await client.shutdown();
  }
  await origin.close();
  if (errors > 0) {
    console.error(`${errors} requests failed`);
    process.exitCode = 1;
  }
}
