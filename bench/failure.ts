/**
 * Failure behaviour (issue 9, reference/benchmarks.md §5 S8): ten endpoints of one service, one
 * of which misbehaves for the whole window, either answering 503 to half its requests
 * (`fail-50`) or answering after 100 ms (`slow-100`). Two clients, interleaved window by window
 * (bare weft bare weft …), each window with a fresh client and fresh endpoint counts:
 *   - `bare-rr`: bare undici round robin over the ten ports, no retries (the baseline);
 *   - `weft`: Weft's mesh dispatcher over the same ten endpoints (a static mesh) with a
 *     DestinationRule (ROUND_ROBIN, outlierDetection consecutive5xxErrors 3, interval 1s,
 *     baseEjectionTime 30s) and a VirtualService (timeout 1s; retries: 2 attempts, perTryTimeout
 *     50ms, retryOn 5xx,reset,connect-failure) — a per-try timeout is a gateway error to outlier
 *     detection, so the slow endpoint is ejected too.
 * Load is a fixed-rate open loop (support/open-loop.ts: latency from each request's due time).
 * Reported per fault and client, median (min…max) over rounds: success rate, p50/p99/p99.9/max
 * latency overall and over the window's second half, retry amplification (requests arriving at
 * the endpoints ÷ requests the client sent), the share of requests that reached the faulty
 * endpoint, and Weft's time to eject (window start → the outlier detector's `ejected` event for
 * that endpoint), with any healthy endpoint ejected by mistake, and any ejection during the
 * warm-up (only a stalled client causes one), counted apart.
 *
 * Run: npm run bench:failure   (about 70 s; --quick: about 8 s)
 *      node --conditions=@weft/source bench/failure.ts [--quick] [--rounds=N] [--seconds=S]
 *           [--rate=req/s] [--json=FILE]
 * A JSON record goes to bench/results/ (and to --json); the Markdown goes to stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { bareClient, ENDPOINTS, MESH_YAML, weftClient } from './support/failure-clients.ts';
import type { Fault } from './support/failure-origin.ts';
import { startFailureOrigin } from './support/failure-origin-process.ts';
import { describeMachine } from './support/machine.ts';
import { openLoop } from './support/open-loop.ts';
import { formatSpread } from './support/path-report.ts';
import { exitUnlessSourceCondition } from './support/source-condition.ts';
import { percentileOfSorted, type Spread, spread } from './support/stats.ts';

exitUnlessSourceCondition('bench/failure.ts');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    json: { type: 'string' },
  },
});
const isQuick = flags.quick === true;
/** The endpoint that misbehaves: the same one in every window. */
const FAULTY_INDEX = 3;
const settings = {
  mode: isQuick ? 'quick' : 'full',
  rounds: Number(flags.rounds ?? (isQuick ? 1 : 3)),
  windowMs: flags.seconds === undefined ? (isQuick ? 1500 : 5000) : Number(flags.seconds) * 1000,
  ratePerSecond: Number(flags.rate ?? 1000),
  warmupMs: isQuick ? 200 : 500,
  drainMs: 5000,
  endpoints: ENDPOINTS,
  faultyIndex: FAULTY_INDEX,
};
const FAULTS: readonly Fault[] = ['fail-50', 'slow-100'];
const CLIENTS = ['bare-rr', 'weft'] as const;
type ClientId = (typeof CLIENTS)[number];

interface WindowResult {
  readonly client: ClientId;
  readonly fault: Fault;
  readonly round: number;
  readonly requests: number;
  readonly ok: number;
  readonly successPercent: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Over the requests due in the second half of the window. */
  readonly secondHalfP99Ms: number;
  readonly secondHalfSuccessPercent: number;
  readonly upstreamRequests: number;
  readonly amplification: number;
  /** Share of the client's requests that reached the faulty endpoint (all attempts). */
  readonly faultyShareOfRequestsPercent: number;
  readonly timeToEjectMs?: number;
  readonly wrongEjections: number;
  /** Ejections during the warm-up, when no endpoint was faulty: only a stalled client causes them. */
  readonly ejectionsBeforeWindow: number;
  readonly retriesScheduled: number;
  readonly retriesRefused: number;
  readonly retriesRefusedReasons: Record<string, number>;
  readonly maxGeneratorLagMs: number;
  /** The client's event-loop delay during the window (monitorEventLoopDelay, 1 ms resolution). */
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  readonly firstError?: string;
}

function percentileMs(latenciesUs: Float64Array, p: number): number {
  // Requests that never ended count as the slowest.
  const sorted = Float64Array.from(latenciesUs, (v) =>
    Number.isNaN(v) ? Number.POSITIVE_INFINITY : v,
  ).sort();
  return percentileOfSorted(sorted, p) / 1000;
}

const origin = await startFailureOrigin(ENDPOINTS);
const faultyPort = origin.ports[FAULTY_INDEX] as number;
const machine = describeMachine();
const startedAt = new Date();
const windows: WindowResult[] = [];

async function runWindow(clientId: ClientId, fault: Fault, round: number): Promise<WindowResult> {
  const client = clientId === 'weft' ? weftClient(origin.ports) : bareClient(origin.ports);
  try {
    // Open connections to every endpoint while all are healthy, then turn the fault on.
    await origin.reset('none', -1, 1);
    await openLoop(client.send, settings.ratePerSecond, settings.warmupMs, settings.drainMs);
    await origin.reset(fault, FAULTY_INDEX, 1000 + round);
    // The warm-up's retries are not the window's.
    const retriesBefore = structuredClone(client.retries);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const run = await openLoop(client.send, settings.ratePerSecond, settings.windowMs, settings.drainMs);
    delay.disable();
    const counts = await origin.counts();
    const upstreamRequests = counts.arrivals.reduce((sum, n) => sum + n, 0);
    const half = settings.windowMs / 2;
    const secondHalf: number[] = [];
    let secondHalfOk = 0;
    for (let i = 0; i < run.scheduled; i++) {
      if ((run.dueMs[i] as number) < half) continue;
      secondHalf.push(run.latenciesUs[i] as number);
      secondHalfOk += run.isOk[i] as number;
    }
    const faultyKey = `:${faultyPort}`;
    // Only the window counts; an ejection during the warm-up (a stalled client timing out healthy
    // endpoints) is reported apart.
    const inWindow = client.ejections.filter((ejection) => ejection.atNs >= run.startNs);
    const ejectionOfFaulty = inWindow.find((ejection) => ejection.endpoint.endsWith(faultyKey));
    const wrongEjections = inWindow.filter((ejection) => !ejection.endpoint.endsWith(faultyKey)).length;
    return {
      client: clientId,
      fault,
      round,
      requests: run.scheduled,
      ok: run.ok,
      successPercent: (100 * run.ok) / run.scheduled,
      p50Ms: percentileMs(run.latenciesUs, 50),
      p99Ms: percentileMs(run.latenciesUs, 99),
      p999Ms: percentileMs(run.latenciesUs, 99.9),
      maxMs: percentileMs(run.latenciesUs, 100),
      secondHalfP99Ms: percentileMs(Float64Array.from(secondHalf), 99),
      secondHalfSuccessPercent: (100 * secondHalfOk) / secondHalf.length,
      upstreamRequests,
      amplification: upstreamRequests / run.scheduled,
      faultyShareOfRequestsPercent: (100 * (counts.arrivals[FAULTY_INDEX] ?? 0)) / run.scheduled,
      ...(ejectionOfFaulty === undefined
        ? {}
        : { timeToEjectMs: Number(ejectionOfFaulty.atNs - run.startNs) / 1e6 }),
      wrongEjections,
      ejectionsBeforeWindow: client.ejections.length - inWindow.length,
      retriesScheduled: client.retries.scheduled - retriesBefore.scheduled,
      retriesRefused: client.retries.refused - retriesBefore.refused,
      retriesRefusedReasons: Object.fromEntries(
        Object.entries(client.retries.refusedReasons)
          .map(([reason, count]) => [reason, count - (retriesBefore.refusedReasons[reason] ?? 0)] as const)
          .filter(([, count]) => count > 0),
      ),
      maxGeneratorLagMs: run.maxGeneratorLagMs,
      eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
      eventLoopDelayMaxMs: delay.max / 1e6,
      ...(run.firstError === undefined ? {} : { firstError: run.firstError }),
    };
  } finally {
    await client.close();
  }
}

try {
  for (let round = 0; round < settings.rounds; round++) {
    for (const fault of FAULTS) {
      // ABAB, with the order flipped every other round.
      const order = round % 2 === 0 ? CLIENTS : [...CLIENTS].reverse();
      for (const clientId of order) {
        console.error(`round ${round + 1}/${settings.rounds}: ${fault}, ${clientId}`);
        windows.push(await runWindow(clientId, fault, round));
      }
    }
  }
} finally {
  await origin.close();
}

interface FailureSummary {
  readonly fault: Fault;
  readonly client: ClientId;
  readonly windows: number;
  readonly successPercent: Spread;
  readonly p50Ms: Spread;
  readonly p99Ms: Spread;
  readonly p999Ms: Spread;
  readonly maxMs: Spread;
  readonly secondHalfP99Ms: Spread;
  readonly secondHalfSuccessPercent: Spread;
  readonly amplification: Spread;
  readonly faultyShareOfRequestsPercent: Spread;
  readonly timeToEjectMs: Spread;
  /** Windows in which the faulty endpoint was never ejected (Weft only). */
  readonly notEjected: number;
  readonly wrongEjections: number;
  readonly ejectionsBeforeWindow: number;
  readonly maxGeneratorLagMs: number;
  readonly eventLoopDelayMaxMs: Spread;
}

const summaries: FailureSummary[] = [];
for (const fault of FAULTS) {
  for (const clientId of CLIENTS) {
    const mine = windows.filter((w) => w.fault === fault && w.client === clientId);
    const of = (value: (w: WindowResult) => number | undefined) =>
      spread(mine.map(value).filter((v): v is number => v !== undefined && !Number.isNaN(v)));
    summaries.push({
      fault,
      client: clientId,
      windows: mine.length,
      successPercent: of((w) => w.successPercent),
      p50Ms: of((w) => w.p50Ms),
      p99Ms: of((w) => w.p99Ms),
      p999Ms: of((w) => w.p999Ms),
      maxMs: of((w) => w.maxMs),
      secondHalfP99Ms: of((w) => w.secondHalfP99Ms),
      secondHalfSuccessPercent: of((w) => w.secondHalfSuccessPercent),
      amplification: of((w) => w.amplification),
      faultyShareOfRequestsPercent: of((w) => w.faultyShareOfRequestsPercent),
      timeToEjectMs: of((w) => w.timeToEjectMs),
      notEjected: clientId === 'weft' ? mine.filter((w) => w.timeToEjectMs === undefined).length : 0,
      wrongEjections: mine.reduce((sum, w) => sum + w.wrongEjections, 0),
      ejectionsBeforeWindow: mine.reduce((sum, w) => sum + w.ejectionsBeforeWindow, 0),
      maxGeneratorLagMs: Math.max(...mine.map((w) => w.maxGeneratorLagMs)),
      eventLoopDelayMaxMs: of((w) => w.eventLoopDelayMaxMs),
    });
  }
}

/** A run fails only when the client saw something the fault cannot explain: a bare request to a healthy endpoint failing. */
const bareHealthyFailures = windows
  .filter((w) => w.client === 'bare-rr' && w.fault === 'slow-100')
  .reduce((sum, w) => sum + (w.requests - w.ok), 0);

const record = {
  scenario: 'failure',
  startedAt: startedAt.toISOString(),
  argv: process.argv.slice(2),
  machine: { ...machine, loadAverageAtEnd: os.loadavg().map((load) => Number(load.toFixed(2))) },
  settings,
  meshYaml: MESH_YAML,
  isOk: bareHealthyFailures === 0,
  summaries,
  windows,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/failure-${settings.mode}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
const json = `${JSON.stringify(record, null, 2)}\n`;
writeFileSync(file, json);
if (flags.json !== undefined) writeFileSync(flags.json, json);

function markdownFailure(rows: readonly FailureSummary[]): string {
  const header = [
    'fault',
    'client',
    'success %',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
    'p99 ms, 2nd half',
    'success %, 2nd half',
    'amplification',
    'to faulty endpoint %',
    'time to eject ms',
    'client ELD max ms',
  ];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(header.map(() => '---')),
    ...rows.map((s) =>
      line([
        s.fault,
        s.client,
        formatSpread(s.successPercent, 2),
        formatSpread(s.p50Ms, 2),
        formatSpread(s.p99Ms, 1),
        formatSpread(s.p999Ms, 1),
        formatSpread(s.maxMs, 0),
        formatSpread(s.secondHalfP99Ms, 1),
        formatSpread(s.secondHalfSuccessPercent, 2),
        formatSpread(s.amplification, 3),
        formatSpread(s.faultyShareOfRequestsPercent, 2),
        s.client === 'weft'
          ? `${formatSpread(s.timeToEjectMs, 0)}${s.notEjected > 0 ? ` (not ejected in ${s.notEjected})` : ''}` +
            `${s.wrongEjections > 0 ? `; ${s.wrongEjections} healthy ejected` : ''}` +
            `${s.ejectionsBeforeWindow > 0 ? `; ${s.ejectionsBeforeWindow} ejected during warm-up` : ''}`
          : '—',
        formatSpread(s.eventLoopDelayMaxMs, 1),
      ]),
    ),
  ].join('\n');
}

console.log(
  `## Failure behaviour, S8 (${settings.mode}: ${settings.rounds} rounds; ${ENDPOINTS} endpoints, one faulty; ` +
    `open loop at ${settings.ratePerSecond} req/s for ${settings.windowMs} ms per window)\n`,
);
console.log(
  `${machine.cpuModel}, ${machine.nproc} CPUs, Linux ${machine.kernel}; Node ${machine.node}, undici ` +
    `${machine.undici}; commit ${machine.commit}; load average at start ${machine.loadAverageAtStart.join(' ')}; ` +
    `generator at most ${Math.max(...summaries.map((s) => s.maxGeneratorLagMs)).toFixed(1)} ms late\n`,
);
console.log(markdownFailure(summaries));
console.log(
  '\nMedian over windows (min…max). Latency from each request’s due time. Amplification: requests that ' +
    'arrived at the ten endpoints ÷ requests sent. Time to eject: window start → Weft’s `ejected` event for ' +
    'the faulty endpoint.',
);
console.log(`\nRecord: ${file.pathname}`);
if (!record.isOk) {
  console.error(`FAILED: ${bareHealthyFailures} bare requests failed with no fault to explain them`);
  process.exitCode = 1;
}
