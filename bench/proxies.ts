/**
 * Weft against sidecar proxies (issue 9, reference/benchmarks.md §5 S2 and S3): the same
 * `GET /` (2-byte body, keep-alive) from this process to an origin child process, six ways:
 *   - `s0-request`: bare undici.request → origin (the floor, every other variant's baseline);
 *   - `weft-all`: undici through Weft's mesh dispatcher with every feature on (header route,
 *     timeout, retries with per-try timeout, fault at 0%, LEAST_REQUEST, outlier detection) → origin;
 *   - `s2-haproxy`, `s2-nginx`: bare undici → one proxy → origin (one sidecar hop);
 *   - `s3-pair`: bare undici → haproxy (client-side sidecar) → nginx (server-side sidecar) → origin;
 *   - `s3-pair-tls`: the same with mutual TLS between the two proxies (certificates made with
 *     openssl at start), as between two sidecars.
 * haproxy and nginx run on 127.0.0.1 with configs generated into a temp directory
 * (support/proxy-config.ts), one worker each, no access log; they are installed from Debian when
 * missing (support/proxy-process.ts), and when that fails the proxy rows are reported as skipped
 * with the reason.
 *
 * Every round runs each variant between two windows of S0 (S0 A S0 B …, support/plan.ts), in
 * three shapes: closed loop at concurrency 16 and 64 (CPU µs per request of every process on the
 * path from /proc/<pid>/stat and process.cpuUsage, summed; throughput against S0) and ping-pong
 * (p50/p99, added µs against S0). Each window also records the RSS of every process and the
 * client's event-loop delay. Windows start when other processes leave the CPUs alone (within a
 * budget); a disturbed one is measured again and the least disturbed attempt kept and flagged.
 * Every request must end in 200 with the expected body and the origin must have served exactly
 * as many as the client completed, or the run fails. A separate probe (support/rss-probe.ts)
 * weighs a client process with and without Weft.
 *
 * Run: npm run bench:proxies   (7 minutes on a quiet 2-vCPU machine, 12.5 on a busy one; --quick: 15 s)
 *      node --conditions=@weft/source bench/proxies.ts [--quick] [--rounds=N] [--seconds=S]
 *           [--max-other-cpu=%] [--no-install] [--json=FILE]
 * A JSON record goes to bench/results/ (and to --json); the Markdown goes to stdout.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { selfCpuMicros, systemBusyMicros } from './support/cpu-time.ts';
import { closedLoop, pingPong, type Send } from './support/load.ts';
import { describeMachine } from './support/machine.ts';
import { startOrigin } from './support/origin-process.ts';
import {
  checkPathAims,
  computeHeadlines,
  markdownHeadlines,
  markdownLatency,
  markdownPathAims,
  markdownSaturation,
} from './support/path-report.ts';
import { type PathMeasurement, type PathShape, summarizePath } from './support/path-summary.ts';
import { type PathVariant, startProxyVariants, variantClient } from './support/path-variants.ts';
import { roundPlan } from './support/plan.ts';
import { rssBytes } from './support/proc-stats.ts';
import { haproxyConfig, nginxConfig } from './support/proxy-config.ts';
import { ensureProxies, type ProxyProcess } from './support/proxy-process.ts';
import { otherCpuLimitPercent, QuietWaiter } from './support/quiet.ts';
import type { RssProbeResult } from './support/rss-probe.ts';
import { exitUnlessSourceCondition } from './support/source-condition.ts';
import { median, percentileOfSorted } from './support/stats.ts';
import type { TlsMaterial } from './support/tls-material.ts';

exitUnlessSourceCondition('bench/proxies.ts');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'max-other-cpu': { type: 'string' },
    'no-install': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const isQuick = flags.quick === true;
const settings = {
  mode: isQuick ? 'quick' : 'full',
  rounds: Number(flags.rounds ?? (isQuick ? 1 : 5)),
  initialWarmupMs: isQuick ? 300 : 2000,
  warmupMs: isQuick ? 50 : 250,
  closedMs: flags.seconds === undefined ? (isQuick ? 300 : 2000) : Number(flags.seconds) * 1000,
  pingPongMs: flags.seconds === undefined ? (isQuick ? 150 : 1000) : Number(flags.seconds) * 500,
  maxOtherCpuPercent: Number(flags['max-other-cpu'] ?? 10),
  maxAttempts: isQuick ? 1 : 2,
  quietWaitBudgetMs: isQuick ? 0 : 60_000,
  rssProbeRequests: isQuick ? 2_000 : 20_000,
  rssProbeRepeats: isQuick ? 1 : 3,
};
const SHAPES: readonly PathShape[] = ['c16', 'c64', 'ping-pong'];
const CONCURRENCY: Readonly<Record<PathShape, number>> = { c16: 16, c64: 64, 'ping-pong': 1 };

const machine = describeMachine();
const startedAt = new Date();
const availability = ensureProxies({ mayInstall: flags['no-install'] !== true });
const tempDir = mkdtempSync(join(os.tmpdir(), 'weft-bench-proxies-'));
const origin = await startOrigin(1);
const originPort = origin.ports[0] as number;
const proxies: ProxyProcess[] = [];
const variants: PathVariant[] = [];
let tls: TlsMaterial | undefined;
let skippedReason: string | undefined = availability.isAvailable ? undefined : availability.reason;

/** Every process the benchmark runs, for the CPU that others took during a window. */
function ownCpuMicros(): number {
  return selfCpuMicros() + origin.cpuMicros() + proxies.reduce((sum, proxy) => sum + proxy.cpuMicros(), 0);
}

const latencyBuffer = new Float64Array(1 << 20);
const measurements: PathMeasurement[] = [];
const retried: PathMeasurement[] = [];
let firstError: string | undefined;

async function runLoad(send: Send, shape: PathShape, durationMs: number) {
  return shape === 'ping-pong'
    ? pingPong(send, durationMs, latencyBuffer)
    : closedLoop(send, CONCURRENCY[shape], durationMs);
}

async function measure(variant: PathVariant, round: number, shape: PathShape, position: number) {
  const send = variant.client.send;
  await runLoad(send, shape, settings.warmupMs);
  const servedBefore = await origin.served();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const systemBefore = systemBusyMicros();
  const ownBefore = ownCpuMicros();
  const clientBefore = selfCpuMicros();
  const originBefore = origin.cpuMicros();
  const proxiesBefore = variant.proxies.map((proxy) => proxy.cpuMicros());
  delay.enable();
  const counts = await runLoad(send, shape, shape === 'ping-pong' ? settings.pingPongMs : settings.closedMs);
  delay.disable();
  const clientUs = selfCpuMicros() - clientBefore;
  const originUs = origin.cpuMicros() - originBefore;
  const proxiesUs = variant.proxies.map((proxy, i) => proxy.cpuMicros() - (proxiesBefore[i] as number));
  const otherUs = systemBusyMicros() - systemBefore - (ownCpuMicros() - ownBefore);
  const originServed = (await origin.served()) - servedBefore;
  const { requests } = counts;
  const elapsedUs = Number(counts.elapsedNs) / 1000;
  const cpuUsPerRequest: Record<string, number> = { client: clientUs / requests };
  const rssMb: Record<string, number> = { client: process.memoryUsage.rss() / 2 ** 20 };
  for (const [i, proxy] of variant.proxies.entries()) {
    cpuUsPerRequest[proxy.name] = (proxiesUs[i] as number) / requests;
    rssMb[proxy.name] = proxy.rssBytes() / 2 ** 20;
  }
  cpuUsPerRequest.origin = originUs / requests;
  rssMb.origin = rssBytes(origin.pid) / 2 ** 20;
  let percentiles = {};
  if ('latenciesUs' in counts) {
    const sorted = Float64Array.from(counts.latenciesUs as Float64Array).sort();
    percentiles = { p50Us: percentileOfSorted(sorted, 50), p99Us: percentileOfSorted(sorted, 99) };
  }
  if (counts.firstError !== undefined) firstError ??= `${variant.id}: ${counts.firstError}`;
  if (originServed !== requests)
    firstError ??= `${variant.id}: the origin saw ${originServed} requests, the client completed ${requests}`;
  const otherCpuPercent = Number(((100 * Math.max(0, otherUs)) / elapsedUs).toFixed(1));
  const measurement: PathMeasurement = {
    variant: variant.id,
    round,
    shape,
    position,
    requests,
    errors: counts.errors,
    ...(counts.firstError === undefined ? {} : { firstError: counts.firstError }),
    elapsedMs: Number((elapsedUs / 1000).toFixed(1)),
    requestsPerSecond: Math.round(requests / (elapsedUs / 1e6)),
    cpuUsPerRequest,
    totalCpuUsPerRequest:
      clientUs / requests + originUs / requests + proxiesUs.reduce((a, b) => a + b, 0) / requests,
    rssMb,
    eventLoopDelayP99Us: delay.percentile(99) / 1000,
    otherCpuPercent,
    isDisturbed: otherCpuPercent > otherCpuLimitPercent(settings.maxOtherCpuPercent, elapsedUs / 1000),
    attempts: 1,
    originServed,
    ...percentiles,
  };
  return measurement;
}

const quiet = new QuietWaiter(settings.quietWaitBudgetMs, ownCpuMicros, settings.maxOtherCpuPercent);

/** Measures when the machine is quiet; a disturbed window is measured again and the least disturbed attempt kept. */
async function measureQuietly(variant: PathVariant, round: number, shape: PathShape, position: number) {
  const attempts: PathMeasurement[] = [];
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    await quiet.wait();
    const measurement = await measure(variant, round, shape, position);
    attempts.push(measurement);
    if (!measurement.isDisturbed) break;
  }
  const [best, ...others] = attempts.sort((a, b) => a.otherCpuPercent - b.otherCpuPercent);
  retried.push(...others);
  return { ...(best as PathMeasurement), attempts: attempts.length };
}

/** Client RSS with and without Weft: fresh child processes that send requests and report after a GC. */
function rssProbe(mode: 'bare' | 'weft'): Promise<RssProbeResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      new URL('./support/rss-probe.ts', import.meta.url),
      [mode, String(originPort), String(settings.rssProbeRequests)],
      {
        execArgv: ['--conditions=@weft/source', '--expose-gc'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    child.once('message', (message) => resolve(message as RssProbeResult));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`rss probe (${mode}) exited with ${code}`));
    });
  });
}

const rssProbes: { mode: 'bare' | 'weft'; result: RssProbeResult }[] = [];
try {
  variants.push(
    {
      id: 's0-request',
      description: 'bare undici.request → origin',
      proxies: [],
      client: variantClient('s0-request', originPort),
    },
    {
      id: 'weft-all',
      description: 'undici through Weft, every feature on (as http-overhead `all`) → origin',
      baseline: 's0-request',
      proxies: [],
      client: variantClient('all', originPort),
    },
  );
  if (availability.isAvailable) {
    try {
      const started = await startProxyVariants({
        tools: availability.tools,
        tempDir,
        originPort,
        proxies,
      });
      tls = started.tls;
      variants.push(...started.variants);
    } catch (error) {
      skippedReason = `the proxies did not start: ${(error as Error).message}`;
      for (const proxy of proxies.splice(0)) await proxy.close();
    }
  }
  if (skippedReason !== undefined) console.error(`S2/S3 skipped: ${skippedReason}`);
  for (const variant of variants)
    if (!(await variant.client.send()))
      throw new Error(`${variant.id}: the first request did not return 200 ok`);
  console.error(`warming up ${variants.length} variants…`);
  for (const variant of variants) {
    await runLoad(variant.client.send, 'c64', settings.initialWarmupMs * 0.6);
    await runLoad(variant.client.send, 'ping-pong', settings.initialWarmupMs * 0.4);
  }
  for (let round = 0; round < settings.rounds; round++) {
    console.error(`round ${round + 1}/${settings.rounds}`);
    for (const shape of SHAPES) {
      for (const [position, id] of roundPlan(variants, round).entries()) {
        const variant = variants.find((candidate) => candidate.id === id) as PathVariant;
        measurements.push(await measureQuietly(variant, round, shape, position));
      }
    }
  }
  for (let i = 0; i < settings.rssProbeRepeats; i++)
    for (const mode of ['bare', 'weft'] as const) rssProbes.push({ mode, result: await rssProbe(mode) });
} finally {
  for (const variant of variants) await variant.client.close();
  for (const proxy of proxies) await proxy.close();
  await origin.close();
  rmSync(tempDir, { recursive: true, force: true });
}

const summaries = variants.map((variant) =>
  summarizePath(measurements, variant, ['client', ...variant.proxies.map((proxy) => proxy.name), 'origin']),
);
const headlines = computeHeadlines(measurements, summaries);
const aims = checkPathAims(summaries, headlines);
const totalErrors = summaries.reduce((sum, s) => sum + s.errors, 0);
const probeMedian = (
  mode: 'bare' | 'weft',
  key: 'rssMb' | 'heapUsedMb' | 'loadedRssMb' | 'loadedHeapUsedMb',
) => median(rssProbes.filter((probe) => probe.mode === mode).map((probe) => probe.result[key]));
const clientMemory = {
  bareLoadedRssMb: probeMedian('bare', 'loadedRssMb'),
  weftLoadedRssMb: probeMedian('weft', 'loadedRssMb'),
  bareRssMb: probeMedian('bare', 'rssMb'),
  weftRssMb: probeMedian('weft', 'rssMb'),
  bareHeapMb: probeMedian('bare', 'heapUsedMb'),
  weftHeapMb: probeMedian('weft', 'heapUsedMb'),
  isDistStale: rssProbes.some((probe) => probe.result.isDistStale),
};
for (const probe of rssProbes)
  if (probe.result.errors > 0) firstError ??= `rss probe (${probe.mode}): ${probe.result.errors} errors`;
const otherCpu = measurements.map((m) => m.otherCpuPercent).sort((a, b) => a - b);
const disturbed = measurements.filter((m) => m.isDisturbed).length;
const record = {
  scenario: 'proxies',
  startedAt: startedAt.toISOString(),
  argv: process.argv.slice(2),
  machine: {
    ...machine,
    loadAverageAtEnd: os.loadavg().map((load) => Number(load.toFixed(2))),
    haproxy: availability.isAvailable ? availability.tools.haproxyVersion : undefined,
    nginx: availability.isAvailable ? availability.tools.nginxVersion : undefined,
    installedForThisRun: availability.isAvailable ? availability.tools.installed : undefined,
    openssl: tls?.opensslVersion,
  },
  settings,
  skipped: skippedReason === undefined ? [] : [{ scenarios: ['S2', 'S3'], reason: skippedReason }],
  proxyConfigs: {
    haproxy: haproxyConfig({ listenPort: 0, upstream: { port: 0 } }),
    nginx: nginxConfig({ dir: '<temp>', listenPort: 0, upstreamPort: 0, isRoot: process.getuid?.() === 0 }),
  },
  variants: variants.map(({ id, description, baseline, proxies: path }) => ({
    id,
    description,
    baseline,
    proxies: path.map((proxy) => proxy.name),
  })),
  isOk: totalErrors === 0 && firstError === undefined,
  firstError,
  headlines,
  aims,
  clientMemory,
  rssProbes,
  summaries,
  measurements,
  retried,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/proxies-${settings.mode}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
const json = `${JSON.stringify(record, null, 2)}\n`;
writeFileSync(file, json);
if (flags.json !== undefined) writeFileSync(flags.json, json);

console.log(
  `## Weft against sidecar proxies, S0–S3 (${settings.mode}: ${settings.rounds} rounds; per variant, ` +
    `round and shape ${settings.closedMs} ms closed loop at c=16 and c=64, ${settings.pingPongMs} ms ping-pong)\n`,
);
console.log(
  `${machine.cpuModel}, ${machine.nproc} CPUs, Linux ${machine.kernel}; Node ${machine.node}, undici ` +
    `${machine.undici}; haproxy ${record.machine.haproxy ?? '—'}, nginx ${record.machine.nginx ?? '—'}; ` +
    `commit ${machine.commit}; load average at start ${machine.loadAverageAtStart.join(' ')}; CPU of other ` +
    `processes during windows: median ${otherCpu[Math.floor(otherCpu.length / 2)] ?? 0}%, max ` +
    `${otherCpu[otherCpu.length - 1] ?? 0}% of one CPU; ${disturbed} of ${measurements.length} windows ` +
    `still disturbed after ${settings.maxAttempts} attempt(s) (kept, flagged in the record)\n`,
);
if (skippedReason !== undefined) console.log(`**S2 and S3 skipped**: ${skippedReason}\n`);
console.log('### Saturation (closed loop): CPU µs per request per process, and throughput\n');
console.log(markdownSaturation(summaries));
console.log('\n### Ping-pong latency, event-loop delay and memory\n');
console.log(markdownLatency(summaries));
console.log(
  `\nClient process memory (fresh process, Weft from its build output, after a GC; median of ` +
    `${settings.rssProbeRepeats}): loaded, bare undici ${clientMemory.bareLoadedRssMb.toFixed(1)} MB RSS, ` +
    `with Weft ${clientMemory.weftLoadedRssMb.toFixed(1)} MB; after ${settings.rssProbeRequests} requests ` +
    `${clientMemory.bareRssMb.toFixed(1)} MB and ${clientMemory.weftRssMb.toFixed(1)} MB ` +
    `(Δ ${(clientMemory.weftRssMb - clientMemory.bareRssMb).toFixed(1)} MB; heap ` +
    `${clientMemory.bareHeapMb.toFixed(1)} → ${clientMemory.weftHeapMb.toFixed(1)} MB)` +
    (clientMemory.isDistStale
      ? '. **The build output is older than the sources: run `npm run build`.**'
      : ''),
);
console.log(`\n### Headline ratios\n\n${markdownHeadlines(headlines)}`);
if (aims.length > 0)
  console.log(`\n### Aims (issue 9, plaintext, \`weft-all\`)\n\n${markdownPathAims(aims)}`);
console.log(
  '\nMedian over rounds (min…max). Δ, % and ratios compare each window with the S0 windows run just ' +
    'before and after it (ratios between variants: round by round).',
);
console.log(`\nRecord: ${file.pathname}`);
if (totalErrors > 0 || firstError !== undefined) {
  console.error(`FAILED: ${totalErrors} errors; first: ${firstError}`);
  process.exitCode = 1;
}
