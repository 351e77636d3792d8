/**
 * What mTLS costs a Weft client (issue 5's bench, issue 9's aims): bare undici doing mTLS itself
 * (the identity module's clientTlsOptions: the workload's SVID, the trust bundle, the SPIFFE check
 * of the server) against Weft's dispatcher with DestinationRule `tls.mode: ISTIO_MUTUAL`, and both
 * against plaintext, on kept-alive connections (per-request cost) and with a new connection per
 * request (handshake cost; both clients resume TLS sessions from undici's cache). An origin child
 * process serves plaintext and mTLS (serverTlsOptions, client certificate required) on 127.0.0.1.
 *
 * Interleaved A/B as bench/http-overhead.ts: in every round each variant runs between two windows
 * of its baseline (support/plan.ts), closed loop at concurrency 16 (client and origin CPU µs per
 * request, throughput as % of the baseline) and ping-pong (p50/p99). Windows wait for a quiet
 * machine and are measured again when other processes took more than 10% of a CPU. Every request
 * must end 200 `ok` and reach the origin, and a `-fresh` window must have opened one connection per
 * request; anything else fails the run.
 *
 * Run: npm run bench:mtls        (about 4 minutes; --quick: about 30 s)
 *      node --conditions=@weft/source bench/mtls.ts [--quick] [--rounds=N] [--seconds=S]
 *           [--only=weft-mtls,…] [--max-other-cpu=%]
 * A JSON record goes to bench/results/; the Markdown table to stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { selfCpuMicros, systemBusyMicros } from './support/cpu-time.ts';
import { closedLoop, pingPong, type Send } from './support/load.ts';
import { describeMachine } from './support/machine.ts';
import { makeBenchIdentities } from './support/mtls-identities.ts';
import { startMtlsOrigin } from './support/mtls-origin.ts';
import { MTLS_VARIANTS, type MtlsBenchClient, type MtlsVariant } from './support/mtls-variants.ts';
import { roundPlan } from './support/plan.ts';
import { otherCpuLimitPercent, QuietWaiter } from './support/quiet.ts';
import { markdownAims, markdownTable } from './support/report.ts';
import { exitUnlessSourceCondition } from './support/source-condition.ts';
import { percentileOfSorted } from './support/stats.ts';
import {
  type AimResult,
  type Measurement,
  type Shape,
  summarize,
  type VariantSummary,
} from './support/summary.ts';

exitUnlessSourceCondition('bench/mtls.ts');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'max-other-cpu': { type: 'string' },
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
  closedMs: flags.seconds === undefined ? (isQuick ? 300 : 2000) : Number(flags.seconds) * 667,
  pingPongMs: flags.seconds === undefined ? (isQuick ? 150 : 1000) : Number(flags.seconds) * 333,
  maxOtherCpuPercent: Number(flags['max-other-cpu'] ?? 10),
  maxAttempts: isQuick ? 2 : 4,
  quietWaitBudgetMs: isQuick ? 5_000 : 300_000,
};

/** The variants named by --only, with the baselines they are compared with. */
function selectVariants(only: string | undefined): MtlsVariant[] {
  if (only === undefined) return [...MTLS_VARIANTS];
  const wanted = new Set(only.split(',').map((id) => id.trim()));
  for (const variant of MTLS_VARIANTS)
    if (wanted.has(variant.id) && variant.baseline) wanted.add(variant.baseline);
  const unknown = [...wanted].filter((id) => !MTLS_VARIANTS.some((variant) => variant.id === id));
  if (unknown.length > 0) throw new Error(`unknown variant(s): ${unknown.join(', ')}`);
  return MTLS_VARIANTS.filter((variant) => wanted.has(variant.id));
}

const machine = describeMachine();
const variants = selectVariants(flags.only);
const identities = makeBenchIdentities();
const origin = await startMtlsOrigin(identities.origin);
const quiet = new QuietWaiter(
  settings.quietWaitBudgetMs,
  () => selfCpuMicros() + origin.cpuMicros(),
  settings.maxOtherCpuPercent,
);
const clients = new Map<string, MtlsBenchClient>();
const latencyBuffer = new Float64Array(1 << 20);
const measurements: Measurement[] = [];
const discarded: Measurement[] = [];
let firstError: string | undefined;

async function warm(send: Send, closedMs: number, pingPongMs: number): Promise<void> {
  const runs = [
    ...(closedMs > 0 ? [await closedLoop(send, CONCURRENCY, closedMs)] : []),
    ...(pingPongMs > 0 ? [await pingPong(send, pingPongMs, latencyBuffer)] : []),
  ];
  for (const run of runs) if (run.errors > 0) firstError ??= `warm-up: ${run.firstError}`;
}

async function measure(
  variant: MtlsVariant,
  round: number,
  shape: Shape,
  position: number,
): Promise<Measurement> {
  const send = (clients.get(variant.id) as MtlsBenchClient).send;
  if (shape === 'closed') await warm(send, settings.warmupMs, 0);
  else await warm(send, 0, settings.warmupMs);
  const before = await origin.counts();
  const systemBefore = systemBusyMicros();
  const clientBefore = selfCpuMicros();
  const serverBefore = origin.cpuMicros();
  const counts =
    shape === 'closed'
      ? await closedLoop(send, CONCURRENCY, settings.closedMs)
      : await pingPong(send, settings.pingPongMs, latencyBuffer);
  const clientUs = selfCpuMicros() - clientBefore;
  const serverUs = origin.cpuMicros() - serverBefore;
  const systemUs = systemBusyMicros() - systemBefore;
  const after = await origin.counts();
  const originServed = after.served - before.served;
  const connections = after.connections - before.connections;
  const elapsedUs = Number(counts.elapsedNs) / 1000;
  let percentiles = {};
  if ('latenciesUs' in counts) {
    const sorted = Float64Array.from(counts.latenciesUs as Float64Array).sort();
    percentiles = { p50Us: percentileOfSorted(sorted, 50), p99Us: percentileOfSorted(sorted, 99) };
  }
  if (counts.firstError !== undefined) firstError ??= `${variant.id}: ${counts.firstError}`;
  if (originServed !== counts.requests)
    firstError ??= `${variant.id}: the origin saw ${originServed} requests, the client completed ${counts.requests}`;
  // A fresh window opens one connection per request (give or take the windows' edges).
  if (variant.isFresh && Math.abs(connections - counts.requests) > CONCURRENCY)
    firstError ??= `${variant.id}: ${connections} connections for ${counts.requests} requests`;
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
}

async function measureQuietly(
  variant: MtlsVariant,
  round: number,
  shape: Shape,
  position: number,
): Promise<Measurement> {
  for (let attempt = 1; ; attempt++) {
    await quiet.wait();
    const measurement = await measure(variant, round, shape, position);
    const limit = otherCpuLimitPercent(settings.maxOtherCpuPercent, measurement.elapsedMs);
    if (measurement.otherCpuPercent <= limit) return measurement;
    if (attempt === settings.maxAttempts) return { ...measurement, isDisturbed: true };
    discarded.push(measurement);
  }
}

const startedAt = new Date();
try {
  for (const variant of variants) {
    const client = variant.create(origin, identities);
    clients.set(variant.id, client);
    if (!(await client.send())) throw new Error(`${variant.id}: the first request did not return 200 ok`);
  }
  console.error(`warming up ${variants.length} variants…`);
  for (const variant of variants) {
    await warm(
      (clients.get(variant.id) as MtlsBenchClient).send,
      settings.initialWarmupMs * 0.6,
      settings.initialWarmupMs * 0.4,
    );
  }
  for (let round = 0; round < settings.rounds; round++) {
    console.error(`round ${round + 1}/${settings.rounds}`);
    for (const shape of ['closed', 'ping-pong'] as const) {
      for (const [position, id] of roundPlan(variants, round).entries()) {
        const variant = variants.find((candidate) => candidate.id === id) as MtlsVariant;
        measurements.push(await measureQuietly(variant, round, shape, position));
      }
    }
  }
} finally {
  for (const client of clients.values()) await client.close();
  await origin.close();
}

const summaries = variants.map((variant) =>
  summarize(
    measurements,
    variant.id,
    variants.some((candidate) => candidate.id === variant.baseline) ? variant.baseline : undefined,
  ),
);
const byId = (id: string): VariantSummary | undefined => summaries.find((summary) => summary.variant === id);
const aims: AimResult[] = [];
const judge = (aim: string, value: number | undefined, limit: number, isAtMost: boolean) => {
  if (value === undefined) return;
  aims.push({
    aim,
    measured: value,
    limit,
    isMet: Number.isNaN(value) ? undefined : isAtMost ? value <= limit : value >= limit,
  });
};
judge(
  'ISTIO_MUTUAL throughput ≥ 90% of bare undici doing mTLS itself',
  byId('weft-mtls')?.throughputPercent?.median,
  90,
  false,
);
judge(
  'ISTIO_MUTUAL client CPU ≤ 10 µs per request over plaintext bare undici',
  byId('weft-mtls-vs-plain')?.deltaClientCpuUs?.median,
  10,
  true,
);
const errors =
  summaries.reduce((sum, summary) => sum + summary.errors, 0) + (firstError === undefined ? 0 : 1);
const otherCpu = measurements.map((m) => m.otherCpuPercent).sort((a, b) => a - b);
const record = {
  scenario: 'mtls',
  startedAt: startedAt.toISOString(),
  argv: process.argv.slice(2),
  machine: { ...machine, loadAverageAtEnd: os.loadavg().map((load) => Number(load.toFixed(2))) },
  settings,
  variants: variants.map(({ id, description, baseline, isFresh }) => ({
    id,
    description,
    baseline,
    isFresh,
  })),
  isOk: errors === 0,
  firstError,
  aims,
  summaries,
  measurements,
  discarded,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/mtls-${settings.mode}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);

console.log(
  `## mTLS cost (${settings.mode}: ${settings.rounds} rounds; per variant and round ` +
    `${settings.closedMs} ms closed loop at c=${CONCURRENCY} + ${settings.pingPongMs} ms ping-pong)\n`,
);
console.log(
  `${machine.cpuModel}, ${machine.nproc} CPUs, Linux ${machine.kernel}; Node ${machine.node}, undici ${machine.undici}; ` +
    `commit ${machine.commit}; CPU used by other processes during windows: median ` +
    `${otherCpu[Math.floor(otherCpu.length / 2)] ?? 0}%, max ${otherCpu[otherCpu.length - 1] ?? 0}% of one CPU; ` +
    `${discarded.length} windows measured again; waited ${(quiet.waitedMs / 1000).toFixed(0)} s for a quiet machine\n`,
);
for (const variant of variants) console.log(`- \`${variant.id}\`: ${variant.description}`);
console.log(`\n${markdownTable(summaries)}`);
console.log(
  '\nMedian over windows (min…max). Δ and % compare each window with the mean of the two `vs` windows ' +
    'run just before and after it. Client CPU is the whole client process (undici, TLS, Weft).',
);
console.log(`\nAims (issue 9):\n${markdownAims(aims)}`);
console.log(`\nRecord: ${file.pathname}`);
if (errors > 0) {
  console.error(`FAILED: first error: ${firstError ?? 'see the record'}`);
  process.exitCode = 1;
}
