/**
 * The soak test (issue 10): `npm run soak` (3 minutes), `npm run soak -- --duration=2m`,
 * `npm run soak -- --quick` (30 s). Not part of `npm test`.
 *
 * This process is a Weft workload — productpage, with a mesh fed by a real agent, registered
 * under a lease, holding an SVID from the agent's CA — sending steady traffic through @weft/http
 * to reviews endpoints in another process, while everything around it churns:
 *   - config: a change every second through the agent (the route's subset flips, extra
 *     VirtualServices come and go), each reaching this process as a delta;
 *   - endpoints: every 1.5 s one endpoint is registered, deregistered, or registered with a
 *     short lease left to lapse, so the registry this process sees keeps changing;
 *   - certificates: SVIDs live 2 minutes (renewed every ~12–30 s) and the CA's root is rotated
 *     every 60 s (20 s with --quick), each rotation pushing a new trust bundle and early renewals.
 * Every few seconds it collects garbage twice (--expose-gc) and samples the heap and its active
 * handles (process.getActiveResourcesInfo()). After the warm-up, it fails (exit 1) if either grows:
 *   - heap: the least-squares slope of heapUsed over the run must stay under HEAP_SLOPE_LIMIT
 *     (judged when at least SLOPE_WINDOW_MS were measured, so not with --quick), and the median of
 *     the last quarter of samples must not exceed the first quarter's by more than HEAP_GROWTH_LIMIT;
 *   - handles: the last quarter's median must not exceed the first quarter's by more than
 *     HANDLE_GROWTH_LIMIT.
 * It also fails when more than 0.1% of requests fail, or the event loop's p99 delay after the
 * warm-up passes EVENT_LOOP_P99_LIMIT_MS (bad-inputs I4). The limits and why they are what they
 * are: RELIABILITY.md, "Soak".
 */

import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connectToAgent, createMesh } from '@weft/core';
import {
  admin,
  applyYaml,
  deregisterWorkload,
  meshDispatcher,
  registerWorkload,
  runCleanups,
  send,
  sleep,
  workloadOf,
} from '../support/chaos.ts';
import { killChildren, startAgentChild, startUpstreamChild } from '../support/child.ts';
import { seededUnit } from '../support/fault-proxy.ts';

/** Bytes per minute: a leak of ~60 bytes per request at the soak's rate shows past this. */
const HEAP_SLOPE_LIMIT = 1.5 * 1024 * 1024;
/** The slope is judged only over a measured window at least this long (not with --quick). */
const SLOPE_WINDOW_MS = 90_000;
/** Bytes between the first and the last quarter's medians. */
const HEAP_GROWTH_LIMIT = 4 * 1024 * 1024;
/** Handles between the first and the last quarter's medians. */
const HANDLE_GROWTH_LIMIT = 10;
/** The event loop's p99 delay after the warm-up (bad-inputs I4): ms. */
const EVENT_LOOP_P99_LIMIT_MS = 200;

const ADMIN_TOKEN = 'soak-admin-token-0123456789abcdef';
const ENDPOINTS = 8;
const STABLE_ENDPOINTS = 4;

interface Sample {
  readonly atMs: number;
  readonly heapUsed: number;
  readonly rss: number;
  readonly handles: number;
  readonly byKind: Record<string, number>;
}

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (match === null) throw new Error(`--duration: expected e.g. 90s or 3m, got ${text}`);
  const value = Number(match[1]);
  return match[2] === 'm' ? value * 60_000 : match[2] === 's' ? value * 1_000 : value;
}

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

function sampleNow(startedAtMs: number): Sample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (npm run soak does)');
  gc();
  gc();
  const byKind: Record<string, number> = {};
  const resources = process.getActiveResourcesInfo();
  for (const kind of resources) byKind[kind] = (byKind[kind] ?? 0) + 1;
  const memory = process.memoryUsage();
  return {
    atMs: performance.now() - startedAtMs,
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    handles: resources.length,
    byKind,
  };
}

/** Least-squares slope of y over x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const [x, y] of points) {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  }
  return denominator === 0 ? 0 : numerator / denominator;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      quick: { type: 'boolean' },
      output: { type: 'string' },
      // To tell which churn a growth comes from: turn the others off.
      'no-config-churn': { type: 'boolean' },
      'no-endpoint-churn': { type: 'boolean' },
      'no-rotation': { type: 'boolean' },
      'no-traffic': { type: 'boolean' },
      /** Reuse five route names instead of a new one per change. */
      'cycle-route-names': { type: 'boolean' },
    },
  });
  const isQuick = values.quick === true;
  const durationMs = parseDuration(values.duration ?? (isQuick ? '30s' : '3m'));
  const warmupMs = Math.max(10_000, durationMs * 0.25);
  const sampleEveryMs = isQuick ? 1_000 : 2_000;
  const rotateEveryMs = isQuick ? 20_000 : 60_000;
  const random = seededUnit(2_026);

  const agent = await startAgentChild({ heartbeatMs: 1_000, adminToken: ADMIN_TOKEN, svidTtlMs: 120_000 });
  const names = Array.from(
    { length: ENDPOINTS },
    (_, index) => `reviews-${index < STABLE_ENDPOINTS ? 'v1' : 'v2'}-${index}`,
  );
  const upstreams = await startUpstreamChild(names);
  const workloads = names.map((name) =>
    workloadOf('reviews', name, upstreams.ports.get(name) ?? 0, name.includes('v1') ? 'v1' : 'v2'),
  );
  for (const workload of workloads.slice(0, STABLE_ENDPOINTS)) {
    await registerWorkload(agent.url, workload, 6 * 60 * 60_000, ADMIN_TOKEN); // outlives any soak
  }
  const subsets = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5, interval: 1s, baseEjectionTime: 5s } }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: all, labels: { app: reviews } }
`;
  const route = (subset: string, revision: number) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - name: churn-${revision}
    retries: { attempts: 2, retryOn: "5xx,reset,connect-failure" }
    route: [{ destination: { host: reviews, subset: ${subset} } }]
`;
  await applyYaml(agent.url, subsets, ADMIN_TOKEN);
  await applyYaml(agent.url, route('v1', 0), ADMIN_TOKEN);
  const token = await admin(
    agent.url,
    'POST',
    '/v1/tokens',
    JSON.stringify({ namespace: 'default', serviceAccount: 'bookinfo-productpage', ttl: '24h' }),
    { token: ADMIN_TOKEN },
  );

  const mesh = createMesh({
    workload: {
      name: 'productpage-v1-0',
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
      labels: { app: 'productpage', version: 'v1' },
      service: 'productpage',
    },
    mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' },
  });
  const client = connectToAgent(mesh, {
    agents: [agent.url],
    adminToken: ADMIN_TOKEN,
    backoff: { baseMs: 100, maxMs: 1_000 },
    register: { address: '127.0.0.1', ports: { 9080: 1 }, ttlMs: 3_000 },
    identity: { joinToken: token.body.token as string, renewal: { rotationJitterMs: 2_000 } },
  });
  if ((await client.ready) !== 'synced') throw new Error('the client did not sync');
  await client.identity?.ready;
  const counts = { renewed: 0, bundles: 0, applied: 0, renewalFailures: 0 };
  client.identity?.events.renewed.on(() => {
    counts.renewed += 1;
  });
  client.identity?.events.trustBundle.on(() => {
    counts.bundles += 1;
  });
  client.identity?.events.renewalFailed.on(() => {
    counts.renewalFailures += 1;
  });
  client.events.applied.on(() => {
    counts.applied += 1;
  });
  const dispatcher = meshDispatcher(mesh);

  const startedAtMs = performance.now();
  const endsAtMs = startedAtMs + durationMs;
  const running = () => performance.now() < endsAtMs;
  const traffic = { requests: 0, failures: 0, failureKinds: new Map<string, number>() };
  const loops = Array.from({ length: values['no-traffic'] === true ? 0 : 8 }, async () => {
    while (running()) {
      const outcome = await send(dispatcher, 'http://reviews:9080/reviews/1');
      traffic.requests += 1;
      if (outcome.status !== 200) {
        traffic.failures += 1;
        const kind = outcome.status === 0 ? (outcome.error ?? 'error') : `${outcome.status} ${outcome.flags}`;
        traffic.failureKinds.set(kind, (traffic.failureKinds.get(kind) ?? 0) + 1);
      }
      await sleep(20); // ~8 × 45/s ≈ 350 requests/s
    }
  });

  let configChanges = 0;
  const routeName = (change: number) => (values['cycle-route-names'] === true ? change % 5 : change);
  const configChurn = (async () => {
    while (running() && values['no-config-churn'] !== true) {
      await sleep(1_000);
      configChanges += 1;
      const extra = `extra-${configChanges % 5}`;
      await applyYaml(
        agent.url,
        route(configChanges % 2 === 0 ? 'v1' : 'all', routeName(configChanges)),
        ADMIN_TOKEN,
      );
      if (configChanges % 3 === 0) {
        await admin(agent.url, 'DELETE', `/v1/resources/VirtualService/default/${extra}`, undefined, {
          token: ADMIN_TOKEN,
        });
      } else {
        await applyYaml(
          agent.url,
          `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${extra}, namespace: default }
spec:
  hosts: [${extra}]
  http:
  - name: r-${routeName(configChanges)}
    route: [{ destination: { host: ${extra} } }]
`,
          ADMIN_TOKEN,
        );
      }
    }
  })();

  let endpointChanges = 0;
  const endpointChurn = (async () => {
    while (running() && values['no-endpoint-churn'] !== true) {
      await sleep(1_500);
      endpointChanges += 1;
      const workload = workloads[STABLE_ENDPOINTS + Math.floor(random() * (ENDPOINTS - STABLE_ENDPOINTS))];
      if (workload === undefined) continue;
      const move = random();
      if (move < 0.4) await registerWorkload(agent.url, workload, 60_000, ADMIN_TOKEN);
      else if (move < 0.7) await deregisterWorkload(agent.url, workload.name, ADMIN_TOKEN);
      else await registerWorkload(agent.url, workload, 1_000, ADMIN_TOKEN); // left to lapse
    }
  })();

  let rotations = 0;
  const rootRotation = (async () => {
    while (running() && values['no-rotation'] !== true) {
      await sleep(rotateEveryMs);
      if (!running()) break;
      const answer = await admin(
        agent.url,
        'POST',
        '/v1/ca/rotate',
        JSON.stringify({ activateAfter: '2s', overlap: isQuick ? '40s' : '150s' }),
        { token: ADMIN_TOKEN },
      );
      if (answer.status === 200) rotations += 1;
    }
  })();

  const eventLoop = monitorEventLoopDelay({ resolution: 10 });
  setTimeout(() => eventLoop.enable(), warmupMs).unref();
  const samples: Sample[] = [];
  while (running()) {
    await sleep(sampleEveryMs);
    if (!running()) break; // a sample after the traffic stopped would flatter the end
    samples.push(sampleNow(startedAtMs));
    const last = samples.at(-1);
    if (last !== undefined) {
      write(
        `t=${(last.atMs / 1_000).toFixed(0)}s heap=${mib(last.heapUsed)} rss=${mib(last.rss)} handles=${last.handles} requests=${traffic.requests} failures=${traffic.failures}`,
      );
    }
  }
  await Promise.all([...loops, configChurn, endpointChurn, rootRotation]);
  eventLoop.disable();
  const eventLoopP99Ms = eventLoop.percentile(99) / 1e6;

  // ---- the verdict ----
  const measured = samples.filter((sample) => sample.atMs >= warmupMs);
  const quarter = Math.max(1, Math.floor(measured.length / 4));
  const first = measured.slice(0, quarter);
  const last = measured.slice(-quarter);
  // The heap settles over the first two or three minutes (JIT, lazily built structures): over a
  // shorter window the slope measures that, not a leak, so only the growth bound is judged then.
  const isSlopeJudged = durationMs - warmupMs >= SLOPE_WINDOW_MS;
  const heapSlopePerMinute = slope(measured.map((sample) => [sample.atMs / 60_000, sample.heapUsed]));
  const heapGrowth =
    median(last.map((sample) => sample.heapUsed)) - median(first.map((sample) => sample.heapUsed));
  const handleGrowth =
    median(last.map((sample) => sample.handles)) - median(first.map((sample) => sample.handles));
  const report = {
    durationMs,
    warmupMs,
    samples: measured.length,
    requests: traffic.requests,
    failures: traffic.failures,
    failureKinds: Object.fromEntries(traffic.failureKinds),
    configChanges,
    configsApplied: counts.applied,
    endpointChanges,
    svidRenewals: counts.renewed,
    renewalFailures: counts.renewalFailures,
    trustBundles: counts.bundles,
    rootRotations: rotations,
    heapFirstQuarterMedian: mib(median(first.map((sample) => sample.heapUsed))),
    heapLastQuarterMedian: mib(median(last.map((sample) => sample.heapUsed))),
    heapGrowth: mib(heapGrowth),
    heapSlopePerMinute: mib(heapSlopePerMinute),
    heapMin: mib(Math.min(...measured.map((sample) => sample.heapUsed))),
    heapMax: mib(Math.max(...measured.map((sample) => sample.heapUsed))),
    handlesFirstQuarterMedian: median(first.map((sample) => sample.handles)),
    handlesLastQuarterMedian: median(last.map((sample) => sample.handles)),
    handlesMax: Math.max(...measured.map((sample) => sample.handles)),
    handleKindsAtEnd: samples.at(-1)?.byKind,
    eventLoopDelayP50Ms: Number((eventLoop.percentile(50) / 1e6).toFixed(1)),
    eventLoopDelayP99Ms: Number(eventLoopP99Ms.toFixed(1)),
    eventLoopDelayMaxMs: Number((eventLoop.max / 1e6).toFixed(1)),
  };
  const verdicts = [
    isSlopeJudged
      ? [
          `heap slope ${mib(heapSlopePerMinute)}/min ≤ ${mib(HEAP_SLOPE_LIMIT)}/min`,
          heapSlopePerMinute <= HEAP_SLOPE_LIMIT,
        ]
      : [
          `heap slope ${mib(heapSlopePerMinute)}/min not judged: under ${SLOPE_WINDOW_MS / 1_000} s measured`,
          true,
        ],
    [`heap growth ${mib(heapGrowth)} ≤ ${mib(HEAP_GROWTH_LIMIT)}`, heapGrowth <= HEAP_GROWTH_LIMIT],
    [`handle growth ${handleGrowth} ≤ ${HANDLE_GROWTH_LIMIT}`, handleGrowth <= HANDLE_GROWTH_LIMIT],
    [
      `failed requests ${traffic.failures} ≤ 0.1% of ${traffic.requests}`,
      traffic.failures <= traffic.requests / 1_000,
    ],
    [
      `event-loop delay p99 ${eventLoopP99Ms.toFixed(1)} ms ≤ ${EVENT_LOOP_P99_LIMIT_MS} ms`,
      eventLoopP99Ms <= EVENT_LOOP_P99_LIMIT_MS,
    ],
    [
      'the churn happened (configs applied, renewals, rotations)',
      counts.applied > configChanges / 2 && counts.renewed > 0 && rotations > 0,
    ],
    ['enough samples after the warm-up', measured.length >= 8],
  ] as const;
  write(JSON.stringify(report, null, 2));
  for (const [text, isOk] of verdicts) write(`${isOk ? 'PASS' : 'FAIL'} ${text}`);
  if (values.output !== undefined) writeFileSync(values.output, JSON.stringify({ report, samples }, null, 2));

  await client.close();
  await runCleanups();
  mesh.close();
  await killChildren();
  return verdicts.every(([, isOk]) => isOk) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`soak failed to run: ${String((error as Error).stack ?? error)}\n`);
    await killChildren();
    process.exitCode = 2;
  },
);
