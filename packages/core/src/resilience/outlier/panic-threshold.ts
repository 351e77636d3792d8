/**
 * Envoy's healthy panic threshold: when fewer than this percentage of a cluster's endpoints are
 * healthy, the balancer ignores health and spreads load over all of them, so that a few failures
 * do not pile the whole load onto the survivors. 0 switches panic mode off (then, with every
 * endpoint ejected, the request fails with "no healthy upstream").
 *
 * Envoy's default is 50%. Istio replaces it whenever a DestinationRule has `outlierDetection`:
 * the threshold becomes `minHealthPercent`, default 0 (see OutlierDetector.panicThresholdPercent).
 */
export const DEFAULT_PANIC_THRESHOLD_PERCENT = 50;

export function isPanic(healthyCount: number, totalCount: number, thresholdPercent: number): boolean {
  return totalCount > 0 && healthyCount * 100 < thresholdPercent * totalCount;
}

export interface HealthySelection<E> {
  /** The endpoints to balance over: the healthy ones, or all of them in panic mode. */
  readonly endpoints: readonly E[];
  readonly isPanic: boolean;
}

export function selectWithPanic<E>(
  all: readonly E[],
  healthy: readonly E[],
  thresholdPercent: number = DEFAULT_PANIC_THRESHOLD_PERCENT,
): HealthySelection<E> {
  const panic = isPanic(healthy.length, all.length, thresholdPercent);
  return { endpoints: panic ? all : healthy, isPanic: panic };
}
