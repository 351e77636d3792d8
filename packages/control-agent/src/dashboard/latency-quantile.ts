import { EDGE_LATENCY_BOUNDS_MS } from '@weft/core';

/**
 * The `quantile` (0–1) of a latency histogram with the protocol's buckets, interpolated linearly
 * within the bucket it falls in (as Prometheus' histogram_quantile does). A quantile in the last,
 * open bucket is reported as that bucket's lower bound (10 s). Undefined for an empty histogram.
 */
export function latencyQuantileMs(latencyMs: readonly number[], quantile: number): number | undefined {
  const total = latencyMs.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = quantile * total;
  let below = 0;
  for (let bucket = 0; bucket < latencyMs.length; bucket++) {
    const count = latencyMs[bucket] ?? 0;
    if (count > 0 && below + count >= rank) {
      const lower = bucket === 0 ? 0 : (EDGE_LATENCY_BOUNDS_MS[bucket - 1] as number);
      const upper = EDGE_LATENCY_BOUNDS_MS[bucket];
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return EDGE_LATENCY_BOUNDS_MS.at(-1);
}
