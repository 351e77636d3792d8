/**
 * The one table of `npm run bench` (bench/run-all.ts): a row per scenario of reference
 * benchmarks.md §5, read from the JSON records the scenario benchmarks wrote. Every figure is
 * taken from a record of the same run; a scenario that did not run, or cannot yet run, says so.
 */
import type { Spread } from './stats.ts';

/** What run-all.ts keeps of one child benchmark. */
export interface StepOutcome {
  readonly id: string;
  readonly scenarios: string;
  readonly file: string;
  /** Undefined when the benchmark file is not there (not written yet). */
  readonly exitCode?: number | null;
  readonly durationS?: number;
  /** The child's JSON record, when it writes one. */
  readonly record?: unknown;
  /** The child's Markdown (stdout). */
  readonly markdown?: string;
  readonly skippedReason?: string;
}

type Row = readonly [
  scenario: string,
  variant: string,
  cpu: string,
  throughput: string,
  latency: string,
  notes: string,
];

const fmt = (value: number | undefined, digits: number, isSigned = false): string => {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const text = value.toFixed(digits);
  return isSigned && value > 0 ? `+${text}` : text;
};
const med = (spread: Spread | undefined) => spread?.median;

interface VariantSummaryLike {
  readonly variant: string;
  readonly windows?: number;
  readonly clientCpuUs?: Spread;
  readonly serverCpuUs?: Spread;
  readonly deltaClientCpuUs?: Spread;
  readonly deltaServerCpuUs?: Spread;
  readonly throughputPercent?: Spread;
  readonly p50Us?: Spread;
  readonly deltaP50Us?: Spread;
  readonly deltaP99Us?: Spread;
}

function clientRows(
  scenario: string,
  record: { summaries?: readonly VariantSummaryLike[] } | undefined,
  ids: readonly string[],
): Row[] {
  const rows: Row[] = [];
  for (const id of ids) {
    const s = record?.summaries?.find((summary) => summary.variant === id);
    if (s === undefined) continue;
    const isFloor = s.deltaClientCpuUs === undefined;
    rows.push([
      scenario,
      id,
      isFloor
        ? `client ${fmt(med(s.clientCpuUs), 1)} + server ${fmt(med(s.serverCpuUs), 1)}`
        : `client ${fmt(med(s.deltaClientCpuUs), 1, true)}, server ${fmt(med(s.deltaServerCpuUs), 1, true)}`,
      isFloor ? '(floor)' : fmt(med(s.throughputPercent), 0),
      isFloor
        ? `p50 ${fmt(med(s.p50Us), 0)}`
        : `${fmt(med(s.deltaP50Us), 0, true)} / ${fmt(med(s.deltaP99Us), 0, true)}`,
      s.windows === 0 ? 'every window was disturbed by other processes and left out: see the record' : '',
    ]);
  }
  return rows;
}

interface PathShapeLike {
  readonly totalCpuUs?: Spread;
  readonly deltaTotalCpuUs?: Spread;
  readonly cpuOverheadPercent?: Spread;
  readonly throughputPercent?: Spread;
  readonly p50Us?: Spread;
  readonly deltaP50Us?: Spread;
  readonly deltaP99Us?: Spread;
}

interface ProxiesRecordLike {
  readonly summaries?: readonly {
    readonly variant: string;
    readonly byShape: {
      readonly c16?: PathShapeLike;
      readonly c64?: PathShapeLike;
      readonly 'ping-pong'?: PathShapeLike;
    };
  }[];
  readonly skipped?: readonly { readonly reason: string }[];
}

function proxyRows(record: ProxiesRecordLike | undefined): Row[] {
  const rows: Row[] = [];
  const scenarioOf: Record<string, string> = {
    's0-request': 'S0',
    'weft-all': 'S1',
    's2-haproxy': 'S2',
    's2-nginx': 'S2',
    's3-pair': 'S3',
    's3-pair-tls': 'S3',
  };
  for (const s of record?.summaries ?? []) {
    const c16 = s.byShape.c16;
    const ping = s.byShape['ping-pong'];
    const isFloor = c16?.deltaTotalCpuUs === undefined;
    rows.push([
      scenarioOf[s.variant] ?? '?',
      `${s.variant} (path)`,
      isFloor
        ? `${fmt(med(c16?.totalCpuUs), 1)} summed`
        : `${fmt(med(c16?.totalCpuUs), 1)} summed (${fmt(med(c16?.deltaTotalCpuUs), 1, true)}, ${fmt(med(c16?.cpuOverheadPercent), 0, true)}%)`,
      isFloor
        ? '(floor)'
        : `${fmt(med(c16?.throughputPercent), 0)} / ${fmt(med(s.byShape.c64?.throughputPercent), 0)}`,
      isFloor
        ? `p50 ${fmt(med(ping?.p50Us), 0)}`
        : `${fmt(med(ping?.deltaP50Us), 0, true)} / ${fmt(med(ping?.deltaP99Us), 0, true)}`,
      '',
    ]);
  }
  for (const skipped of record?.skipped ?? [])
    rows.push(['S2, S3', '—', '—', '—', '—', `skipped: ${skipped.reason}`]);
  return rows;
}

/** bench/inbound.ts keeps every window's value per variant; the median is taken here. */
interface InboundRecordLike {
  readonly summaries?: readonly {
    readonly variant: string;
    readonly baseline: string | null;
    readonly serverCpuUsPerRequest: readonly number[];
    readonly deltaServerCpuUs: readonly number[];
    readonly throughputPercentOfBaseline: readonly number[];
  }[];
}

function middle(values: readonly number[] | undefined): number | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[half]
    : ((sorted[half - 1] as number) + (sorted[half] as number)) / 2;
}

function inboundRows(record: InboundRecordLike): Row[] {
  return (record.summaries ?? []).map((s) => [
    'S4',
    s.variant,
    s.baseline === null
      ? `server ${fmt(middle(s.serverCpuUsPerRequest), 1)}`
      : `server ${fmt(middle(s.deltaServerCpuUs), 1, true)}`,
    s.baseline === null ? '(floor)' : fmt(middle(s.throughputPercentOfBaseline), 0),
    '—',
    s.baseline === null ? '' : `vs ${s.baseline}`,
  ]);
}

interface FailureRecordLike {
  readonly summaries?: readonly {
    readonly fault: string;
    readonly client: string;
    readonly successPercent: Spread;
    readonly p99Ms: Spread;
    readonly amplification: Spread;
    readonly timeToEjectMs: Spread;
  }[];
}

function failureRows(record: FailureRecordLike | undefined): Row[] {
  return (record?.summaries ?? []).map((s) => [
    'S8',
    `${s.fault}, ${s.client}`,
    '—',
    '—',
    `p99 ${fmt(med(s.p99Ms), 1)} ms`,
    `success ${fmt(med(s.successPercent), 2)}%, amplification ${fmt(med(s.amplification), 3)}` +
      (s.client === 'weft' ? `, ejected after ${fmt(med(s.timeToEjectMs), 0)} ms` : ''),
  ]);
}

interface ControlPlaneRecordLike {
  readonly results?: readonly { readonly clients: number; readonly propagationMs: readonly number[] }[];
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

function controlPlaneRows(record: ControlPlaneRecordLike | undefined): Row[] {
  return (record?.results ?? []).map((result) => [
    'S7',
    `${result.clients} in-process clients`,
    '—',
    '—',
    `p50 ${fmt(percentile(result.propagationMs, 0.5), 0)} ms, p99 ${fmt(percentile(result.propagationMs, 0.99), 0)} ms`,
    'apply → applied in every client',
  ]);
}

/** The overview table over every step's record. */
export function overviewTable(steps: readonly StepOutcome[]): string {
  const stepOf = (id: string) => steps.find((step) => step.id === id);
  const rows: Row[] = [];
  /** A row for a step that did not run (unless its own rows say so already) or failed. */
  const notRun = (id: string, scenario: string) => {
    const step = stepOf(id);
    if (step === undefined) return;
    if (step.skippedReason !== undefined) {
      if (id !== 'inbound' && id !== 'mtls')
        rows.push([scenario, '—', '—', '—', '—', `not run: ${step.skippedReason}`]);
    } else if (step.exitCode !== 0)
      rows.push([scenario, '—', '—', '—', '—', `FAILED (exit ${step.exitCode})`]);
  };
  rows.push(
    ...clientRows('S0/S1', stepOf('http')?.record as { summaries?: VariantSummaryLike[] } | undefined, [
      's0-request',
      'mesh-default',
      'all',
      's0-fetch',
      'all-fetch',
    ]),
  );
  notRun('http', 'S0/S1');
  rows.push(...proxyRows(stepOf('proxies')?.record as ProxiesRecordLike | undefined));
  notRun('proxies', 'S2/S3');
  const inbound = stepOf('inbound');
  if (inbound === undefined) rows.push(['S4', '—', '—', '—', '—', 'not run in this run (--only or --skip)']);
  else if (inbound.skippedReason !== undefined)
    rows.push([
      'S4',
      '—',
      '—',
      '—',
      '—',
      'not yet measured (needs the inbound server wrapper of @weft/http)',
    ]);
  else if (inbound.record !== undefined) rows.push(...inboundRows(inbound.record as InboundRecordLike));
  notRun('inbound', 'S4');
  const mtls = stepOf('mtls');
  if (mtls === undefined) rows.push(['S5', '—', '—', '—', '—', 'not run in this run (--only or --skip)']);
  else if (mtls.skippedReason !== undefined)
    rows.push(['S5', '—', '—', '—', '—', 'not yet measured (needs the in-process mTLS transport)']);
  else if (mtls.record !== undefined)
    rows.push(
      ...clientRows('S5', mtls.record as { summaries?: VariantSummaryLike[] }, [
        'bare-plain',
        'bare-mtls',
        'weft-mtls',
        'weft-mtls-vs-plain',
      ]),
    );
  notRun('mtls', 'S5');
  rows.push(
    ...clientRows('S6', stepOf('grpc')?.record as { summaries?: VariantSummaryLike[] } | undefined, [
      's0-unary',
      'mesh-unary',
      's0-stream',
      'mesh-stream',
    ]),
  );
  notRun('grpc', 'S6');
  rows.push(...controlPlaneRows(stepOf('control-plane')?.record as ControlPlaneRecordLike | undefined));
  notRun('control-plane', 'S7');
  rows.push(...failureRows(stepOf('failure')?.record as FailureRecordLike | undefined));
  notRun('failure', 'S8');
  const header = [
    'scenario',
    'variant',
    'CPU µs/req (c=16)',
    'throughput % of S0 (c=16 / c=64)',
    'Δp50 / Δp99 µs (ping-pong)',
    'notes',
  ];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
