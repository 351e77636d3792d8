/**
 * Figures for a request path of several processes (client, proxies, origin; reference
 * benchmarks.md S2/S3): each window is compared with the windows of its baseline just before and
 * after it in the same round (plan.ts), per process and summed over the path, and the median over
 * rounds is kept with its range. Headline ratios between two variants (Weft against a sidecar
 * pair) are taken round by round as well.
 */
import { finite, paired } from './paired-windows.ts';
import { type Spread, spread } from './stats.ts';

export type PathShape = 'c16' | 'c64' | 'ping-pong';

export const CLOSED_SHAPES: readonly PathShape[] = ['c16', 'c64'];

/** One measured window of one variant. */
export interface PathMeasurement {
  readonly variant: string;
  readonly round: number;
  readonly shape: PathShape;
  readonly position: number;
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  /** CPU µs per request of each process on the path, by name (client, origin, proxies). */
  readonly cpuUsPerRequest: Readonly<Record<string, number>>;
  /** The sum over the path. */
  readonly totalCpuUsPerRequest: number;
  /** Resident memory of each process on the path at the end of the window, in MB. */
  readonly rssMb: Readonly<Record<string, number>>;
  /** The client's event-loop delay p99 during the window (monitorEventLoopDelay), in µs. */
  readonly eventLoopDelayP99Us: number;
  /** CPU used by processes the benchmark did not start, in % of one CPU. */
  readonly otherCpuPercent: number;
  /** Other processes took more than the limit in every attempt at this window. */
  readonly isDisturbed: boolean;
  /** How many times the window was measured (the least disturbed attempt is kept). */
  readonly attempts: number;
  /** Requests the origin saw; must equal `requests`. */
  readonly originServed: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
}

export interface PathShapeSummary {
  readonly windows: number;
  readonly cpuUs: Readonly<Record<string, Spread>>;
  readonly totalCpuUs: Spread;
  readonly requestsPerSecond: Spread;
  readonly eventLoopDelayP99Us: Spread;
  readonly p50Us?: Spread;
  readonly p99Us?: Spread;
  /** Against the neighbouring baseline windows. */
  readonly deltaClientCpuUs?: Spread;
  readonly deltaTotalCpuUs?: Spread;
  /** (total CPU − the baseline's) ÷ the baseline's, in %. */
  readonly cpuOverheadPercent?: Spread;
  readonly throughputPercent?: Spread;
  readonly deltaP50Us?: Spread;
  readonly deltaP99Us?: Spread;
}

export interface PathSummary {
  readonly variant: string;
  readonly description: string;
  readonly baseline?: string;
  /** The processes on the path, in order: client, proxies…, origin. */
  readonly processes: readonly string[];
  readonly errors: number;
  readonly disturbedWindows: number;
  readonly byShape: Readonly<Partial<Record<PathShape, PathShapeSummary>>>;
  /** Median RSS of each process over the variant's windows, in MB. */
  readonly rssMb: Readonly<Record<string, number>>;
}

type Value = (m: PathMeasurement) => number | undefined;

export function summarizePath(
  measurements: readonly PathMeasurement[],
  variant: { readonly id: string; readonly description: string; readonly baseline?: string },
  processes: readonly string[],
): PathSummary {
  const mine = measurements.filter((m) => m.variant === variant.id);
  const byShape: Partial<Record<PathShape, PathShapeSummary>> = {};
  const difference = (a: number, b: number) => a - b;
  for (const shape of ['c16', 'c64', 'ping-pong'] as const) {
    const windows = mine.filter((m) => m.shape === shape);
    if (windows.length === 0) continue;
    const of = (value: Value) => spread(finite(windows.map(value)));
    const cpuUs: Record<string, Spread> = {};
    for (const name of processes) cpuUs[name] = of((m) => m.cpuUsPerRequest[name]);
    const isPing = shape === 'ping-pong';
    const base = variant.baseline;
    const versus = (value: Value, compare: (a: number, b: number) => number) =>
      base === undefined ? undefined : paired(measurements, windows, base, value, compare);
    const summary: PathShapeSummary = {
      windows: windows.length,
      cpuUs,
      totalCpuUs: of((m) => m.totalCpuUsPerRequest),
      requestsPerSecond: of((m) => m.requestsPerSecond),
      eventLoopDelayP99Us: of((m) => m.eventLoopDelayP99Us),
      ...(isPing ? { p50Us: of((m) => m.p50Us), p99Us: of((m) => m.p99Us) } : {}),
      ...(base === undefined
        ? {}
        : {
            deltaClientCpuUs: versus((m) => m.cpuUsPerRequest.client, difference),
            deltaTotalCpuUs: versus((m) => m.totalCpuUsPerRequest, difference),
            cpuOverheadPercent: versus(
              (m) => m.totalCpuUsPerRequest,
              (a, b) => (100 * (a - b)) / b,
            ),
            ...(isPing
              ? {
                  deltaP50Us: versus((m) => m.p50Us, difference),
                  deltaP99Us: versus((m) => m.p99Us, difference),
                }
              : {
                  throughputPercent: versus(
                    (m) => m.requestsPerSecond,
                    (a, b) => (100 * a) / b,
                  ),
                }),
          }),
    };
    byShape[shape] = summary;
  }
  const rssMb: Record<string, number> = {};
  for (const name of processes) rssMb[name] = spread(finite(mine.map((m) => m.rssMb[name]))).median;
  return {
    variant: variant.id,
    description: variant.description,
    ...(variant.baseline === undefined ? {} : { baseline: variant.baseline }),
    processes,
    errors: mine.reduce((sum, m) => sum + m.errors + Math.abs(m.requests - m.originServed), 0),
    disturbedWindows: mine.filter((m) => m.isDisturbed).length,
    byShape,
    rssMb,
  };
}

/** Round by round, `value` of variant `a` ÷ `value` of variant `b` in the same shape. */
export function ratioByRound(
  measurements: readonly PathMeasurement[],
  a: string,
  b: string,
  shape: PathShape,
  value: (m: PathMeasurement) => number,
): Spread {
  const rounds = new Set(measurements.map((m) => m.round));
  const ratios: number[] = [];
  for (const round of rounds) {
    const mean = (variant: string) => {
      const values = measurements
        .filter((m) => m.round === round && m.shape === shape && m.variant === variant)
        .map(value);
      return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
    };
    const ratio = mean(a) / mean(b);
    if (Number.isFinite(ratio)) ratios.push(ratio);
  }
  return spread(ratios);
}
