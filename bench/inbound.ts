/**
 * What Weft's inbound pipeline costs the server (issue 6): server CPU µs per request of node:http
 * and express, bare and with the pipeline — no policies (PeerAuthentication PERMISSIVE, path
 * normalization, header checks, an empty RequestAuthentication and AuthorizationPolicy, telemetry
 * without an SDK, the request context for outbound calls) and with 20 AuthorizationPolicies the
 * request walks past. The servers run in a child process (support/inbound-servers.ts) that reports
 * its own process.cpuUsage(); this process sends `GET /api/items` over kept-alive connections, in a
 * closed loop at concurrency 16.
 *
 * Then, in this process and without HTTP traffic, the pipeline alone: a meshRequestListener called with
 * node request/response objects against the same listener without Weft, alternating batches, CPU
 * ns per request (support/inbound-pipeline-cost.ts) — the steadier figure on a shared machine.
 *
 * Interleaved A/B: in every round each Weft variant runs between two windows of its bare baseline
 * (B V1 B V2 B, support/plan.ts, rotated from round to round) and is compared with the mean of
 * those two neighbours, so drift of a shared machine cancels out; the report gives the median
 * (min…max) over rounds. Every response must be 200 `ok` and the server must have answered every
 * request, or the run fails. Other processes' CPU during each window is reported (`other CPU %`):
 * on a shared 2-CPU machine, a window next to a busy one is noisier.
 *
 * Run: npm run bench:inbound            (about 2 minutes)
 *      node --conditions=@weft/source bench/inbound.ts --quick   (about 15 s)
 *           [--rounds=N] [--seconds=S per window]
 * A JSON record goes to bench/results/; the Markdown table goes to stdout.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { nextMessage } from './support/child-process.ts';
import { selfCpuMicros, systemBusyMicros } from './support/cpu-time.ts';
import { measurePipelineCost } from './support/inbound-pipeline-cost.ts';
import { BENCH_REQUEST } from './support/inbound-policies.ts';
import { closedLoop, type Send } from './support/load.ts';
import { describeMachine } from './support/machine.ts';
import { roundPlan } from './support/plan.ts';
import { exitUnlessSourceCondition } from './support/source-condition.ts';
import { median } from './support/stats.ts';

exitUnlessSourceCondition('bench/inbound.ts');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
  },
});
const isQuick = flags.quick === true;
const CONCURRENCY = 16;
const settings = {
  mode: isQuick ? 'quick' : 'full',
  concurrency: CONCURRENCY,
  rounds: Number(flags.rounds ?? (isQuick ? 2 : 5)),
  initialWarmupMs: isQuick ? 300 : 2000,
  warmupMs: isQuick ? 50 : 250,
  windowMs: flags.seconds === undefined ? (isQuick ? 300 : 1500) : Number(flags.seconds) * 1000,
};

interface Variant {
  readonly id: string;
  readonly description: string;
  readonly baseline?: string;
}

const VARIANTS: readonly Variant[] = [
  { id: 'node-bare', description: 'node:http, no Weft' },
  { id: 'node-weft', baseline: 'node-bare', description: 'createMeshServer, no policies' },
  { id: 'node-weft-authz', baseline: 'node-bare', description: 'createMeshServer, 20 AuthorizationPolicies' },
  { id: 'express-bare', description: 'express, no Weft' },
  {
    id: 'express-noop',
    baseline: 'express-bare',
    description: 'express + a middleware that only calls next (what any middleware costs express)',
  },
  { id: 'express-weft', baseline: 'express-bare', description: 'express + weftExpress, no policies' },
  {
    id: 'express-weft-authz',
    baseline: 'express-bare',
    description: 'express + weftExpress, 20 AuthorizationPolicies',
  },
];

interface Usage {
  readonly cpuMicros: number;
  readonly served: Readonly<Record<string, number>>;
}

/** The server child: its ports by variant, and its CPU and request counts on demand. */
async function startServers(): Promise<{
  child: ChildProcess;
  ports: Record<string, number>;
  usage(): Promise<Usage>;
}> {
  const child = fork(new URL('./support/inbound-servers.ts', import.meta.url), [], {
    execArgv: ['--conditions=@weft/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string) => nextMessage<T>(child, type, 'the server process');
  const ready = await next<{ ports: Record<string, number> }>('ready');
  return {
    child,
    ports: ready.ports,
    async usage() {
      const reply = next<Usage>('usage');
      child.send({ type: 'usage' });
      return reply;
    },
  };
}

function clientFor(port: number): { send: Send; close(): Promise<void> } {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, keepAliveTimeout: 120_000 });
  const send: Send = async () => {
    const response = await pool.request(BENCH_REQUEST);
    const text = await response.body.text();
    return response.statusCode === 200 && text === 'ok';
  };
  return { send, close: () => pool.close() };
}

interface Window {
  readonly variant: string;
  readonly round: number;
  readonly position: number;
  readonly requests: number;
  readonly serverCpuUsPerRequest: number;
  readonly requestsPerSecond: number;
  readonly otherCpuPercent: number;
}

const machine = describeMachine();
const servers = await startServers();
const clients = new Map(
  VARIANTS.map((variant) => [variant.id, clientFor(servers.ports[variant.id] as number)]),
);
const windows: Window[] = [];
let firstError: string | undefined;

async function run(variant: string, durationMs: number) {
  const counts = await closedLoop((clients.get(variant) as { send: Send }).send, CONCURRENCY, durationMs);
  if (counts.errors > 0) firstError ??= `${variant}: ${counts.firstError}`;
  return counts;
}

for (const variant of VARIANTS) await run(variant.id, settings.initialWarmupMs);
for (let round = 0; round < settings.rounds; round++) {
  const plan = roundPlan(VARIANTS, round);
  for (const [position, variant] of plan.entries()) {
    await run(variant, settings.warmupMs);
    const before = await servers.usage();
    const systemBefore = systemBusyMicros();
    const selfBefore = selfCpuMicros();
    const counts = await run(variant, settings.windowMs);
    const after = await servers.usage();
    const serverUs = after.cpuMicros - before.cpuMicros;
    const otherUs = systemBusyMicros() - systemBefore - serverUs - (selfCpuMicros() - selfBefore);
    const served = (after.served[variant] ?? 0) - (before.served[variant] ?? 0);
    if (served !== counts.requests) firstError ??= `${variant}: sent ${counts.requests}, served ${served}`;
    const elapsedUs = Number(counts.elapsedNs) / 1000;
    windows.push({
      variant,
      round,
      position,
      requests: counts.requests,
      serverCpuUsPerRequest: serverUs / counts.requests,
      requestsPerSecond: (counts.requests * 1e6) / elapsedUs,
      otherCpuPercent: Math.max(0, (100 * otherUs) / elapsedUs),
    });
  }
}
for (const client of clients.values()) await client.close();
servers.child.disconnect();
if (firstError !== undefined) {
  console.error(`bench failed: ${firstError}`);
  process.exit(1);
}

/** Each Weft window against the mean of the baseline windows right before and after it. */
function comparedWithNeighbours(variant: Variant) {
  const deltas: number[] = [];
  const throughputs: number[] = [];
  for (const window of windows.filter((candidate) => candidate.variant === variant.id)) {
    const neighbours = windows.filter(
      (candidate) =>
        candidate.round === window.round &&
        candidate.variant === variant.baseline &&
        Math.abs(candidate.position - window.position) === 1,
    );
    if (neighbours.length === 0) continue;
    const baseCpu = neighbours.reduce((sum, n) => sum + n.serverCpuUsPerRequest, 0) / neighbours.length;
    const baseRate = neighbours.reduce((sum, n) => sum + n.requestsPerSecond, 0) / neighbours.length;
    deltas.push(window.serverCpuUsPerRequest - baseCpu);
    throughputs.push((100 * window.requestsPerSecond) / baseRate);
  }
  return { deltas, throughputs };
}

const format = (values: readonly number[], digits: number, isSigned = false) => {
  if (values.length === 0) return '—';
  const text = (n: number) => `${isSigned && n > 0 ? '+' : ''}${n.toFixed(digits)}`;
  return `${text(median(values))} (${text(Math.min(...values))}…${text(Math.max(...values))})`;
};
const summaries = VARIANTS.map((variant) => {
  const own = windows.filter((window) => window.variant === variant.id);
  const { deltas, throughputs } =
    variant.baseline === undefined ? { deltas: [], throughputs: [] } : comparedWithNeighbours(variant);
  return {
    variant: variant.id,
    description: variant.description,
    baseline: variant.baseline ?? null,
    serverCpuUsPerRequest: own.map((window) => window.serverCpuUsPerRequest),
    deltaServerCpuUs: deltas,
    throughputPercentOfBaseline: throughputs,
    requestsPerSecond: own.map((window) => window.requestsPerSecond),
    otherCpuPercent: own.map((window) => window.otherCpuPercent),
  };
});

const header = [
  'variant',
  'vs',
  'server CPU µs/req',
  'Δ server µs/req',
  'throughput % of vs',
  'req/s',
  'other CPU %',
];
const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
console.log(
  [
    line(header),
    line(header.map(() => '---')),
    ...summaries.map((s) =>
      line([
        s.variant,
        s.baseline ?? '(floor)',
        format(s.serverCpuUsPerRequest, 1),
        format(s.deltaServerCpuUs, 1, true),
        format(s.throughputPercentOfBaseline, 0),
        format(s.requestsPerSecond, 0),
        format(s.otherCpuPercent, 0),
      ]),
    ),
  ].join('\n'),
);

// Part two: the pipeline alone, in this process (support/inbound-pipeline-cost.ts).
const pipelineCost = await measurePipelineCost({ batches: isQuick ? 10 : 60, batchSize: 10_000 });
console.log(
  [
    '',
    '| in-process, no HTTP traffic | CPU ns/request | pipeline ns/request |',
    '| --- | --- | --- |',
    ...pipelineCost.map(
      (row) =>
        `| ${row.variant} | ${row.ns.toFixed(0)} | ${row.variant === 'without Weft' ? '—' : row.overheadNs.toFixed(0)} |`,
    ),
  ].join('\n'),
);

const startedAt = new Date();
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/inbound-${settings.mode}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
writeFileSync(
  file,
  `${JSON.stringify({ startedAt: startedAt.toISOString(), machine, settings, summaries, pipelineCost, windows }, null, 2)}\n`,
);
console.log(`\nrecord: ${file.pathname}`);
