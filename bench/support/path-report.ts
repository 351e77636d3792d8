/**
 * What bench/proxies.ts reports: per-variant tables (saturation CPU per process, throughput
 * retained, ping-pong latency, memory), the headline ratios of reference benchmarks.md §5, and
 * the aims of issue 9 judged against the measured medians.
 */
import {
  CLOSED_SHAPES,
  type PathMeasurement,
  type PathShape,
  type PathSummary,
  ratioByRound,
} from './path-summary.ts';
import type { Spread } from './stats.ts';

export function formatSpread(value: Spread | undefined, digits: number, isSigned = false): string {
  if (value === undefined || !Number.isFinite(value.median)) return '—';
  const format = (n: number) => {
    const text = n.toFixed(digits);
    return isSigned && n > 0 ? `+${text}` : text;
  };
  if (value.min === value.max) return format(value.median);
  return `${format(value.median)} (${format(value.min)}…${format(value.max)})`;
}

const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** CPU per request per process at saturation, the sum, and what it costs against the baseline. */
export function markdownSaturation(summaries: readonly PathSummary[]): string {
  const rows: string[][] = [];
  for (const shape of CLOSED_SHAPES) {
    for (const s of summaries) {
      const figures = s.byShape[shape];
      if (figures === undefined) continue;
      const proxies = s.processes.filter((name) => name !== 'client' && name !== 'origin');
      rows.push([
        s.variant,
        shape === 'c16' ? '16' : '64',
        formatSpread(figures.cpuUs.client, 1),
        proxies.length === 0
          ? '—'
          : proxies.map((name) => `${name} ${formatSpread(figures.cpuUs[name], 1)}`).join('; '),
        formatSpread(figures.cpuUs.origin, 1),
        formatSpread(figures.totalCpuUs, 1),
        formatSpread(figures.deltaTotalCpuUs, 1, true),
        formatSpread(figures.cpuOverheadPercent, 0, true),
        formatSpread(figures.throughputPercent, 0),
        formatSpread(figures.requestsPerSecond, 0),
        String(s.errors),
      ]);
    }
  }
  return table(
    [
      'variant',
      'c',
      'client µs/req',
      'proxies µs/req',
      'origin µs/req',
      'total µs/req',
      'Δ total µs',
      'CPU overhead %',
      'throughput % of S0',
      'req/s',
      'errors',
    ],
    rows,
  );
}

/** Ping-pong latency and the added µs, the client's event-loop delay, and memory per process. */
export function markdownLatency(summaries: readonly PathSummary[]): string {
  return table(
    [
      'variant',
      'p50 µs',
      'p99 µs',
      'Δp50 µs',
      'Δp99 µs',
      'client ELD p99 µs (c=16)',
      'RSS MB (proxies, origin)',
    ],
    summaries.map((s) => {
      const ping = s.byShape['ping-pong'];
      const rss = s.processes
        .filter((name) => name !== 'client')
        .map(
          (name) => `${name} ${Number.isFinite(s.rssMb[name]) ? (s.rssMb[name] as number).toFixed(1) : '—'}`,
        )
        .join('; ');
      return [
        s.variant,
        formatSpread(ping?.p50Us, 0),
        formatSpread(ping?.p99Us, 0),
        formatSpread(ping?.deltaP50Us, 0, true),
        formatSpread(ping?.deltaP99Us, 0, true),
        formatSpread(s.byShape.c16?.eventLoopDelayP99Us, 0),
        rss,
      ];
    }),
  );
}

/** The variants the headline ratios name. */
export const WEFT = 'weft-all';
export const PAIR = 's3-pair';
export const PAIR_TLS = 's3-pair-tls';

export interface Headlines {
  /** Δp50 and Δp99 (ping-pong, against S0) of the sidecar pair ÷ Weft's; NaN when Weft's Δ ≤ 0. */
  readonly latencyRatio: {
    readonly p50: { readonly pairUs: number; readonly weftUs: number; readonly ratio: number };
    readonly p99: { readonly pairUs: number; readonly weftUs: number; readonly ratio: number };
  };
  /** Weft's CPU per request summed over the path ÷ the sidecar pair's, round by round. */
  readonly cpuWeftOverPair: Readonly<Partial<Record<PathShape, Spread>>>;
  readonly cpuWeftOverPairTls: Readonly<Partial<Record<PathShape, Spread>>>;
  /** Each proxy's CPU per request as vCPU per 1000 req/s (Istio's unit), at c=16. */
  readonly vcpuPer1000Rps: Readonly<Record<string, number>>;
}

export function computeHeadlines(
  measurements: readonly PathMeasurement[],
  summaries: readonly PathSummary[],
): Headlines {
  const of = (id: string) => summaries.find((s) => s.variant === id);
  const ratioOf = (pair: number, weft: number) => (weft > 0 ? pair / weft : Number.NaN);
  const pairPing = of(PAIR)?.byShape['ping-pong'];
  const weftPing = of(WEFT)?.byShape['ping-pong'];
  const p50 = {
    pairUs: pairPing?.deltaP50Us?.median ?? Number.NaN,
    weftUs: weftPing?.deltaP50Us?.median ?? Number.NaN,
  };
  const p99 = {
    pairUs: pairPing?.deltaP99Us?.median ?? Number.NaN,
    weftUs: weftPing?.deltaP99Us?.median ?? Number.NaN,
  };
  const total = (m: PathMeasurement) => m.totalCpuUsPerRequest;
  const cpuWeftOverPair: Partial<Record<PathShape, Spread>> = {};
  const cpuWeftOverPairTls: Partial<Record<PathShape, Spread>> = {};
  for (const shape of CLOSED_SHAPES) {
    cpuWeftOverPair[shape] = ratioByRound(measurements, WEFT, PAIR, shape, total);
    cpuWeftOverPairTls[shape] = ratioByRound(measurements, WEFT, PAIR_TLS, shape, total);
  }
  const vcpuPer1000Rps: Record<string, number> = {};
  for (const s of summaries)
    for (const name of s.processes)
      if (name !== 'client' && name !== 'origin')
        vcpuPer1000Rps[`${s.variant}/${name}`] = (s.byShape.c16?.cpuUs[name]?.median ?? Number.NaN) / 1000;
  return {
    latencyRatio: {
      p50: { ...p50, ratio: ratioOf(p50.pairUs, p50.weftUs) },
      p99: { ...p99, ratio: ratioOf(p99.pairUs, p99.weftUs) },
    },
    cpuWeftOverPair,
    cpuWeftOverPairTls,
    vcpuPer1000Rps,
  };
}

function ratioText(entry: {
  readonly pairUs: number;
  readonly weftUs: number;
  readonly ratio: number;
}): string {
  const pair = entry.pairUs.toFixed(0);
  const weft = entry.weftUs.toFixed(0);
  if (!Number.isFinite(entry.pairUs) || !Number.isFinite(entry.weftUs)) return 'not measured';
  if (!Number.isFinite(entry.ratio))
    return `pair +${pair} µs, Weft ${entry.weftUs > 0 ? '+' : ''}${weft} µs (Weft's Δ is within noise of 0: no finite ratio)`;
  return `**${entry.ratio.toFixed(1)}×** (pair +${pair} µs, Weft +${weft} µs)`;
}

export function markdownHeadlines(headlines: Headlines): string {
  const lines = [
    `- Added latency Δ(S3 pair)/Δ(Weft), ping-pong p50: ${ratioText(headlines.latencyRatio.p50)}`,
    `- Added latency Δ(S3 pair)/Δ(Weft), ping-pong p99: ${ratioText(headlines.latencyRatio.p99)}`,
  ];
  for (const shape of CLOSED_SHAPES) {
    lines.push(
      `- CPU per request summed over every process, Weft ÷ sidecar pair (plaintext), c=${shape.slice(1)}: ` +
        `**${formatSpread(headlines.cpuWeftOverPair[shape], 2)}**; ÷ pair with mTLS between the proxies: ` +
        `${formatSpread(headlines.cpuWeftOverPairTls[shape], 2)}`,
    );
  }
  const proxies = Object.entries(headlines.vcpuPer1000Rps)
    .filter(([, value]) => Number.isFinite(value))
    .map(([name, value]) => `${name} ${value.toFixed(3)}`);
  if (proxies.length > 0)
    lines.push(`- Each proxy in vCPU per 1000 req/s (c=16; Istio's sidecar: 0.20): ${proxies.join(', ')}`);
  return lines.join('\n');
}

export interface PathAim {
  readonly aim: string;
  readonly measured: number;
  readonly limit: number;
  readonly isMet: boolean | undefined;
}

/** Issue 9's plaintext aims for Weft with every feature on, and the summed-CPU aim against the pair. */
export function checkPathAims(summaries: readonly PathSummary[], headlines: Headlines): PathAim[] {
  const weft = summaries.find((s) => s.variant === WEFT);
  if (weft === undefined) return [];
  const aims: PathAim[] = [];
  const add = (aim: string, measured: number | undefined, limit: number, isAtMost: boolean) => {
    if (measured === undefined) return;
    const isMet = Number.isFinite(measured) ? (isAtMost ? measured <= limit : measured >= limit) : undefined;
    aims.push({ aim, measured, limit, isMet });
  };
  add('added client CPU per request ≤ 5 µs (c=16)', weft.byShape.c16?.deltaClientCpuUs?.median, 5, true);
  add('throughput ≥ 85% of bare undici (c=16)', weft.byShape.c16?.throughputPercent?.median, 85, false);
  add('throughput ≥ 85% of bare undici (c=64)', weft.byShape.c64?.throughputPercent?.median, 85, false);
  add('added p50 in ping-pong ≤ 10 µs', weft.byShape['ping-pong']?.deltaP50Us?.median, 10, true);
  for (const shape of CLOSED_SHAPES)
    add(
      `CPU per request summed over every process ≤ 0.6× the sidecar pair's (c=${shape.slice(1)})`,
      headlines.cpuWeftOverPair[shape]?.median,
      0.6,
      true,
    );
  return aims;
}

export function markdownPathAims(aims: readonly PathAim[]): string {
  return aims
    .map((aim) => {
      if (aim.isMet === undefined) return `- not judged: ${aim.aim} — no comparable windows`;
      const digits = aim.limit < 1 ? 2 : 1;
      return `- ${aim.isMet ? 'met' : 'MISSED'}: ${aim.aim} — measured ${aim.measured.toFixed(digits)} (limit ${aim.limit})`;
    })
    .join('\n');
}
