/**
 * Interleaved A/B over windows (support/plan.ts): each variant's window is compared with the mean
 * of the baseline windows right beside it in the same round and shape, so that drift of a shared
 * machine cancels out. Shared by summary.ts and path-summary.ts.
 */
import { type Spread, spread } from './stats.ts';

/** A measured window and its place in the run. */
export interface PlacedWindow {
  readonly variant: string;
  readonly round: number;
  readonly shape: string;
  /** Its index within the round. */
  readonly position: number;
}

/** The finite numbers among `values` (a window that measured nothing gives undefined or NaN). */
export function finite(values: readonly (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined && Number.isFinite(v));
}

/** Per window of `own`, its value against the mean of its neighbouring `baseline` windows. */
export function paired<M extends PlacedWindow>(
  measurements: readonly M[],
  own: readonly M[],
  baseline: string,
  value: (m: M) => number | undefined,
  compare: (own: number, base: number) => number,
): Spread {
  const results: number[] = [];
  for (const m of own) {
    const v = value(m);
    const neighbours = finite(
      measurements
        .filter(
          (b) =>
            b.variant === baseline &&
            b.round === m.round &&
            b.shape === m.shape &&
            Math.abs(b.position - m.position) === 1,
        )
        .map(value),
    );
    if (v === undefined || neighbours.length === 0) continue;
    results.push(compare(v, neighbours.reduce((sum, n) => sum + n, 0) / neighbours.length));
  }
  return spread(results);
}
