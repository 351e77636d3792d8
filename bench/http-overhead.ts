/**
 * What the mesh costs an HTTP client (issue 3, reference/benchmarks.md §5, S0 against S1).
 * An origin (node:http, keep-alive, 2-byte body) runs in a child process; in this process each
 * client variant sends `GET /` to it: bare undici.request and undici.fetch (S0, the floor), and
 * the same calls through Weft's mesh dispatcher to `http://origin:9080/` with routing, least-
 * request balancing over 1 and 10 endpoints, retries + timeout, outlier detection, fault
 * injection at 0%, and all of them together (S1). In every round each variant runs between two
 * windows of its S0 baseline (S0 A S0 B S0 …, support/plan.ts), in two load shapes:
 *   - closed loop at concurrency 16: client and origin CPU µs per request (process.cpuUsage,
 *     /proc/<pid>/stat) and throughput as % of S0;
 *   - ping-pong (concurrency 1): latency p50/p99 and the added µs against S0.
 * Each window is compared with the mean of its two S0 neighbours; the report gives the median
 * (and min…max) over rounds. Windows start when other processes leave the CPUs alone; one in
 * which they took more than 10% of a CPU anyway is measured again, and left out if it stays
 * disturbed (other jobs on 2 CPUs skew both CPU and latency figures). Every request must end
 * in 200 with the expected body and the origin must have seen every one of them; any error fails
 * the run, so a broken mesh cannot look fast.
 *
 * Run: npm run bench:http              (7–10 minutes; --quick: about 20 s)
 *      node --conditions=@weft/source bench/http-overhead.ts [--quick] [--only=all,lb-10]
 *           [--rounds=N] [--seconds=S per variant and round] [--pin] [--max-other-cpu=%]
 *           [--no-baseline]   (with --only: run just those variants, e.g. under --cpu-prof)
 * A JSON record goes to bench/results/; the Markdown table goes to stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pinToCpu } from './support/affinity.ts';
import { MICROS_PER_TICK, selfCpuMicros, systemBusyMicros } from './support/cpu-time.ts';
import { closedLoop, pingPong, type Send } from './support/load.ts';
import { describeMachine } from './support/machine.ts';
import { startOrigin } from './support/origin-process.ts';
import { roundPlan } from './support/plan.ts';
import { markdownAims, markdownTable } from './support/report.ts';
import { exitUnlessSourceCondition } from './support/source-condition.ts';
import { percentileOfSorted } from './support/stats.ts';
import { checkAims, type Measurement, type Shape, summarize } from './support/summary.ts';
import { type BenchClient, VARIANTS, type Variant } from './support/variants.ts';

// The workspace packages must run from source: without the condition, @weft/http would load the
// build output of @weft/core (possibly stale) next to the source this file imports.
exitUnlessSourceCondition('bench/http-overhead.ts');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'max-other-cpu': { type: 'string' },
    pin: { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
  },
});
const isQuick = flags.quick === true;
const CONCURRENCY = 16;
const ORIGIN_SERVERS = 10;
const settings = {
  mode: isQuick ? 'quick' : 'full',
  concurrency: CONCURRENCY,
  rounds: Number(flags.rounds ?? (isQuick ? 2 : 5)),
  /** Once per variant before the first round: JIT, connections. */
  initialWarmupMs: isQuick ? 200 : 2000,
  /** Before every measured window: reopen idle connections, refill caches. */
  warmupMs: isQuick ? 50 : 250,
  /** Per window; a window of every variant sits between two of its baseline (support/plan.ts). */
  closedMs: flags.seconds === undefined ? (isQuick ? 200 : 2000) : Number(flags.seconds) * 667,
  pingPongMs: flags.seconds === undefined ? (isQuick ? 120 : 1000) : Number(flags.seconds) * 333,
  /**
   * A window in which other processes used more than this much CPU (% of one CPU) is measured
   * again, up to `maxAttempts` times: on 2 CPUs another job skews both CPU and latency figures.
   */
  maxOtherCpuPercent: Number(flags['max-other-cpu'] ?? 10),
  maxAttempts: isQuick ? 2 : 4,
  /** How long the whole run may wait for a quiet machine before windows (quick: 5 s). */
  quietWaitBudgetMs: isQuick ? 5_000 : 300_000,
  /** Client on CPU 0, origin on CPU 1 (--pin); otherwise the scheduler places both. */
  isPinned: flags.pin === true,
};

/** The variants named by --only (all when absent), with their baselines unless --no-baseline. */
function selectVariants(only: string | undefined, withBaselines: boolean): Variant[] {
  if (only === undefined) return [...VARIANTS];
  const wanted = new Set(only.split(',').map((id) => id.trim()));
  for (const variant of VARIANTS)
    if (withBaselines && wanted.has(variant.id) && variant.baseline) wanted.add(variant.baseline);
  const unknown = [...wanted].filter((id) => !VARIANTS.some((variant) => variant.id === id));
  if (unknown.length > 0) throw new Error(`unknown variant(s): ${unknown.join(', ')}`);
  return VARIANTS.filter((variant) => wanted.has(variant.id));
}

const machine = describeMachine();
const variants = selectVariants(flags.only, flags['no-baseline'] !== true);
const origin = await startOrigin(ORIGIN_SERVERS);
if (settings.isPinned) {
  pinToCpu(process.pid, 0);
  pinToCpu(origin.pid, 1);
}
const clients = new Map<string, BenchClient>();
const latencyBuffer = new Float64Array(1 << 20);
const measurements: Measurement[] = [];
const discarded: Measurement[] = [];
const unmeasuredErrors = new Map<string, number>();
/** Every request this process sent, warm-ups included: divides a CPU profile into µs/request. */
let requestsSent = 0;
let firstError: string | undefined;

async function warm(variant: Variant, send: Send, closedMs: number, pingPongMs: number): Promise<void> {
  const runs = [
    ...(closedMs > 0 ? [await closedLoop(send, CONCURRENCY, closedMs)] : []),
    ...(pingPongMs > 0 ? [await pingPong(send, pingPongMs, latencyBuffer)] : []),
  ];
  for (const run of runs) {
    requestsSent += run.requests;
    if (run.errors === 0) continue;
    unmeasuredErrors.set(variant.id, (unmeasuredErrors.get(variant.id) ?? 0) + run.errors);
    firstError ??= `${variant.id}: ${run.firstError}`;
  }
}

async function measure(
  variant: Variant,
  round: number,
  shape: Shape,
  position: number,
): Promise<Measurement> {
  const send = (clients.get(variant.id) as BenchClient).send;
  if (shape === 'closed') await warm(variant, send, settings.warmupMs, 0);
  else await warm(variant, send, 0, settings.warmupMs);
  const servedBefore = await origin.served();
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
  const originServed = (await origin.served()) - servedBefore;
  requestsSent += counts.requests;
  const elapsedUs = Number(counts.elapsedNs) / 1000;
  const requests = counts.requests;
  let percentiles = {};
  if ('latenciesUs' in counts) {
    const sorted = Float64Array.from(counts.latenciesUs as Float64Array).sort();
    percentiles = { p50Us: percentileOfSorted(sorted, 50), p99Us: percentileOfSorted(sorted, 99) };
  }
  if (counts.firstError !== undefined) firstError ??= `${variant.id}: ${counts.firstError}`;
  if (originServed !== requests)
    firstError ??= `${variant.id}: the origin saw ${originServed} requests, the client completed ${requests}`;
  return {
    variant: variant.id,
    round,
    shape,
    position,
    requests,
    errors: counts.errors,
    ...(counts.firstError === undefined ? {} : { firstError: counts.firstError }),
    elapsedMs: Number((elapsedUs / 1000).toFixed(1)),
    requestsPerSecond: Math.round(requests / (elapsedUs / 1e6)),
    clientCpuUsPerRequest: clientUs / requests,
    serverCpuUsPerRequest: serverUs / requests,
    otherCpuPercent: Number(((100 * Math.max(0, systemUs - clientUs - serverUs)) / elapsedUs).toFixed(1)),
    originServed,
    ...percentiles,
  };
}

/** Measures again while other processes took CPU, keeping the last attempt and the discarded ones. */
/** /proc counts whole clock ticks on each CPU: over a short window a few ticks are noise. */
function otherCpuLimitPercent(windowMs: number): number {
  const tickNoisePercent = (100 * 2 * os.availableParallelism() * MICROS_PER_TICK) / (windowMs * 1000);
  return settings.maxOtherCpuPercent + tickNoisePercent;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let quietWaitBudgetMs = settings.quietWaitBudgetMs;

/** Waits (within a budget for the whole run) until other processes leave the CPUs alone. */
async function waitForQuiet(): Promise<void> {
  const sampleMs = 500;
  while (quietWaitBudgetMs > 0) {
    const systemBefore = systemBusyMicros();
    const ownBefore = selfCpuMicros() + origin.cpuMicros();
    await sleep(sampleMs);
    const otherUs = systemBusyMicros() - systemBefore - (selfCpuMicros() + origin.cpuMicros() - ownBefore);
    if ((100 * otherUs) / (sampleMs * 1000) <= otherCpuLimitPercent(sampleMs)) return;
    await sleep(1000);
    quietWaitBudgetMs -= sampleMs + 1000;
  }
}

/**
 * Measures a window when the machine is quiet, and again while other processes took CPU in it.
 * A window still disturbed after the last attempt is kept, marked, and left out of the summary.
 */
async function measureQuietly(
  variant: Variant,
  round: number,
  shape: Shape,
  position: number,
): Promise<Measurement> {
  for (let attempt = 1; ; attempt++) {
    await waitForQuiet();
    const measurement = await measure(variant, round, shape, position);
    const isDisturbed = measurement.otherCpuPercent > otherCpuLimitPercent(measurement.elapsedMs);
    if (!isDisturbed) return measurement;
    if (attempt === settings.maxAttempts) return { ...measurement, isDisturbed };
    discarded.push(measurement);
    const errors = measurement.errors + Math.abs(measurement.requests - measurement.originServed);
    unmeasuredErrors.set(variant.id, (unmeasuredErrors.get(variant.id) ?? 0) + errors);
  }
}

const startedAt = new Date();
try {
  for (const variant of variants) {
    const client = variant.create(origin.ports);
    clients.set(variant.id, client);
    if (!(await client.send())) throw new Error(`${variant.id}: the first request did not return 200 ok`);
  }
  console.error(`warming up ${variants.length} variants…`);
  for (const variant of variants) {
    const send = (clients.get(variant.id) as BenchClient).send;
    await warm(variant, send, settings.initialWarmupMs * 0.6, settings.initialWarmupMs * 0.4);
  }
  for (let round = 0; round < settings.rounds; round++) {
    console.error(`round ${round + 1}/${settings.rounds}`);
    for (const shape of ['closed', 'ping-pong'] as const) {
      const plan = roundPlan(variants, round);
      for (const [position, id] of plan.entries()) {
        const variant = variants.find((candidate) => candidate.id === id) as Variant;
        measurements.push(await measureQuietly(variant, round, shape, position));
      }
    }
  }
} finally {
  for (const client of clients.values()) await client.close();
  await origin.close();
}

const summaries = variants.map((variant) => {
  const baseline = variants.some((candidate) => candidate.id === variant.baseline)
    ? variant.baseline
    : undefined;
  const summary = summarize(measurements, variant.id, baseline);
  return { ...summary, errors: summary.errors + (unmeasuredErrors.get(variant.id) ?? 0) };
});
const allSummary = summaries.find((summary) => summary.variant === 'all');
const aims = allSummary === undefined ? [] : checkAims(allSummary);
const totalErrors = summaries.reduce((sum, summary) => sum + summary.errors, 0);
const otherCpu = measurements.map((m) => m.otherCpuPercent).sort((a, b) => a - b);
const disturbed = measurements.filter((m) => m.isDisturbed === true).length;
const record = {
  scenario: 'http-overhead',
  startedAt: startedAt.toISOString(),
  argv: process.argv.slice(2),
  execArgv: process.execArgv,
  machine: { ...machine, loadAverageAtEnd: os.loadavg().map((load) => Number(load.toFixed(2))) },
  settings,
  variants: variants.map((variant) => ({
    id: variant.id,
    description: variant.description,
    baseline: variant.baseline,
    facts: clients.get(variant.id)?.facts,
  })),
  isOk: totalErrors === 0,
  requestsSent,
  firstError,
  aims,
  summaries,
  measurements,
  discarded,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/http-overhead-${settings.mode}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);

console.log(
  `## HTTP client overhead (${settings.mode}: ${settings.rounds} rounds; per variant and round ` +
    `${settings.closedMs} ms closed loop at c=${CONCURRENCY} + ${settings.pingPongMs} ms ping-pong)\n`,
);
console.log(
  `${machine.cpuModel}, ${machine.nproc} CPUs, Linux ${machine.kernel}; Node ${machine.node}, ` +
    `undici ${machine.undici}; commit ${machine.commit}; load average at start ${machine.loadAverageAtStart.join(' ')}; ` +
    `CPU used by other processes during windows: median ${otherCpu[Math.floor(otherCpu.length / 2)] ?? 0}%, ` +
    `max ${otherCpu[otherCpu.length - 1] ?? 0}% of one CPU; ${discarded.length} windows measured again ` +
    `because other processes took > ${settings.maxOtherCpuPercent}%, ${disturbed} of ${measurements.length} ` +
    `still disturbed and left out; waited ${((settings.quietWaitBudgetMs - quietWaitBudgetMs) / 1000).toFixed(0)} s ` +
    'for a quiet machine\n',
);
console.log(markdownTable(summaries));
console.log(
  '\nMedian over windows (min…max). Δ and % compare each window with the mean of the two `vs` ' +
    'windows run just before and after it.',
);
if (aims.length > 0) console.log(`\nAims (variant \`all\` against \`s0-request\`):\n${markdownAims(aims)}`);
console.log(`\nRecord: ${file.pathname}`);
if (totalErrors > 0) {
  console.error(`FAILED: ${totalErrors} errors; first: ${firstError}`);
  process.exitCode = 1;
}
