import type { WarmupSettings } from './load-balancer.ts';

/** Istio's and Envoy's defaults for `warmup.minimumPercent` and `warmup.aggression`. */
export const DEFAULT_WARMUP_MINIMUM_PERCENT = 10;
export const DEFAULT_WARMUP_AGGRESSION = 1;

/**
 * Envoy's slow-start factor for an endpoint that joined `elapsedMs` ago:
 * max(minimumPercent / 100, timeFactor^(1 / aggression)), timeFactor = max(elapsed, 1 s) / duration,
 * and 1 once `duration` has passed. Aggression 1 ramps linearly; above 1 the weight rises fast
 * early on, below 1 it stays low longer. The weight an endpoint gets is its weight × this factor.
 */
export function warmupFactor(elapsedMs: number, warmup: WarmupSettings): number {
  if (elapsedMs >= warmup.duration) return 1;
  const timeFactor = Math.max(elapsedMs, 1000) / warmup.duration;
  const aggression = warmup.aggression ?? DEFAULT_WARMUP_AGGRESSION;
  const ramp = aggression === 1 ? timeFactor : timeFactor ** (1 / aggression);
  const minimum = (warmup.minimumPercent ?? DEFAULT_WARMUP_MINIMUM_PERCENT) / 100;
  return Math.min(1, Math.max(minimum, ramp));
}

/**
 * How often warming weights are recomputed (pickers are rebuilt then, not per request): every
 * second, like Envoy's second-grained time factor, or 20 steps over a window shorter than 20 s.
 */
export function warmupStepMs(warmup: WarmupSettings): number {
  return Math.max(1, Math.min(1000, warmup.duration / 20));
}
