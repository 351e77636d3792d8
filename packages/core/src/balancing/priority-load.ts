/**
 * Envoy's overprovisioning factor (1.4, as a percentage): a priority or locality counts as fully
 * healthy until fewer than 100/1.4 ≈ 71.4% of its endpoints are.
 */
export const OVERPROVISIONING_PERCENT = 140;

export interface PriorityHealthInput {
  readonly healthy: number;
  readonly total: number;
}

/** Envoy's integer health score of one priority: ⌊140 × healthy / total⌋, at most 100. */
export function priorityHealth({ healthy, total }: PriorityHealthInput): number {
  return total <= 0 ? 0 : Math.min(100, Math.floor((OVERPROVISIONING_PERCENT * healthy) / total));
}

/**
 * Envoy's priority load: the percentage of requests each priority receives. Health scores are
 * normalized by their sum capped at 100, so while the priorities together hold enough healthy
 * endpoints, priority 0 keeps its health score's share and the rest spills over to priority 1,
 * then 2, and so on; when they do not, the load is spread in proportion to health. Rounding
 * leftovers go to the first priority with any health. When every score rounds to 0 but some
 * priority still has a healthy endpoint, that priority takes everything (better than failing).
 */
export function priorityLoads(priorities: readonly PriorityHealthInput[]): number[] {
  const health = priorities.map(priorityHealth);
  const loads = health.map(() => 0);
  const normalizedTotal = Math.min(
    100,
    health.reduce((sum, score) => sum + score, 0),
  );
  if (normalizedTotal === 0) {
    const fallback = priorities.findIndex((priority) => priority.healthy > 0);
    if (fallback >= 0) loads[fallback] = 100;
    return loads;
  }
  let remaining = 100;
  for (const [index, score] of health.entries()) {
    const load = Math.min(remaining, Math.floor((score * 100) / normalizedTotal));
    loads[index] = load;
    remaining -= load;
  }
  const first = health.findIndex((score) => score > 0);
  if (remaining > 0 && first >= 0) loads[first] = (loads[first] as number) + remaining;
  return loads;
}

/** Envoy's effective locality weight: weight × min(1, 1.4 × healthy / total). */
export function effectiveLocalityWeight(weight: number, { healthy, total }: PriorityHealthInput): number {
  if (total <= 0) return 0;
  return weight * Math.min(1, (OVERPROVISIONING_PERCENT / 100) * (healthy / total));
}
