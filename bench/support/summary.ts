/**
 * From raw measurements to the figures the report shows. A variant's window is compared with
 * the mean of the baseline windows on either side of it in the same round (see plan.ts), then
 * the median over rounds is taken, so drift of the machine cancels out as far as it can.
 */
import { finite, paired } from './paired-windows.ts';
import { type Spread, spread } from './stats.ts';

export type Shape = 'closed' | 'ping-pong';

/** One measured window of one variant. */
export interface Measurement {
  readonly variant: string;
  readonly round: number;
  readonly shape: Shape;
  /** Position in the round's plan for this shape. */
  readonly position: number;
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  readonly clientCpuUsPerRequest: number;
  readonly serverCpuUsPerRequest: number;
  /** CPU used by neither client nor origin during the window, in % of one CPU. */
  readonly otherCpuPercent: number;
  /** Requests the origin saw in the window; must equal `requests`. */
  readonly originServed: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
  /** Other processes took CPU in every attempt at this window: kept in the record, not summarized. */
  readonly isDisturbed?: boolean;
}

export interface VariantSummary {
  readonly variant: string;
  readonly baseline?: string;
  readonly windows: number;
  readonly errors: number;
  readonly clientCpuUs: Spread;
  readonly serverCpuUs: Spread;
  /** Client CPU µs/request in ping-pong, where every request pays the wake-ups. */
  readonly pingPongClientCpuUs: Spread;
  readonly p50Us: Spread;
  readonly p99Us: Spread;
  readonly deltaClientCpuUs?: Spread;
  readonly deltaServerCpuUs?: Spread;
  readonly throughputPercent?: Spread;
  readonly deltaP50Us?: Spread;
  readonly deltaP99Us?: Spread;
}

type Value = (m: Measurement) => number | undefined;

export function summarize(
  everything: readonly Measurement[],
  variant: string,
  baseline: string | undefined,
): VariantSummary {
  const measurements = everything.filter((m) => m.isDisturbed !== true);
  const mine = measurements.filter((m) => m.variant === variant);
  const closed = mine.filter((m) => m.shape === 'closed');
  const ping = mine.filter((m) => m.shape === 'ping-pong');
  const of = (windows: readonly Measurement[], value: Value) => spread(finite(windows.map(value)));
  const own = {
    variant,
    windows: mine.length,
    errors: everything
      .filter((m) => m.variant === variant)
      .reduce((sum, m) => sum + m.errors + Math.abs(m.requests - m.originServed), 0),
    clientCpuUs: of(closed, (m) => m.clientCpuUsPerRequest),
    serverCpuUs: of(closed, (m) => m.serverCpuUsPerRequest),
    pingPongClientCpuUs: of(ping, (m) => m.clientCpuUsPerRequest),
    p50Us: of(ping, (m) => m.p50Us),
    p99Us: of(ping, (m) => m.p99Us),
  };
  if (baseline === undefined) return own;
  const difference = (a: number, b: number) => a - b;
  return {
    ...own,
    baseline,
    deltaClientCpuUs: paired(measurements, closed, baseline, (m) => m.clientCpuUsPerRequest, difference),
    deltaServerCpuUs: paired(measurements, closed, baseline, (m) => m.serverCpuUsPerRequest, difference),
    throughputPercent: paired(
      measurements,
      closed,
      baseline,
      (m) => m.requestsPerSecond,
      (a, b) => (100 * a) / b,
    ),
    deltaP50Us: paired(measurements, ping, baseline, (m) => m.p50Us, difference),
    deltaP99Us: paired(measurements, ping, baseline, (m) => m.p99Us, difference),
  };
}

/** The aims of the issue, for the variant with every feature on against bare undici.request. */
export interface AimResult {
  readonly aim: string;
  readonly measured: number;
  readonly limit: number;
  /** Undefined when no undisturbed pair of windows was left to judge by. */
  readonly isMet: boolean | undefined;
}

export function checkAims(all: VariantSummary): AimResult[] {
  const aims: AimResult[] = [];
  const add = (aim: string, value: Spread | undefined, limit: number, isAtMost: boolean) => {
    if (value === undefined) return;
    const measured = value.median;
    const isMet = Number.isNaN(measured) ? undefined : isAtMost ? measured <= limit : measured >= limit;
    aims.push({ aim, measured, limit, isMet });
  };
  add('added client CPU per request ≤ 5 µs', all.deltaClientCpuUs, 5, true);
  add('throughput ≥ 85% of bare undici', all.throughputPercent, 85, false);
  add('added p50 in ping-pong ≤ 10 µs', all.deltaP50Us, 10, true);
  add('added p99 in ping-pong ≤ 20 µs (reference budget)', all.deltaP99Us, 20, true);
  return aims;
}
