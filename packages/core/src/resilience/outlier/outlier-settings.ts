import type { ClusterPolicy } from '../../config/compile/cluster.ts';

/** A cluster's `outlierDetection`, as the schema normalized it (durations in ms). */
export type OutlierDetectionPolicy = NonNullable<ClusterPolicy['outlierDetection']>;

/**
 * The effective outlier-detection settings of one cluster, after Istio's translation to Envoy and
 * Envoy's defaults. A threshold of 0 switches that detector off.
 */
export interface OutlierSettings {
  readonly consecutive5xxErrors: number;
  readonly consecutiveGatewayErrors: number;
  readonly splitExternalLocalOriginErrors: boolean;
  /** Only counted when `splitExternalLocalOriginErrors` is true. */
  readonly consecutiveLocalOriginFailures: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  /** Cap on one ejection's length (Envoy's max_ejection_time; Istio does not expose it). */
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  /** Below this healthy percentage the balancer uses every endpoint (Envoy's panic threshold). */
  readonly minHealthPercent: number;
  /** When set, only these statuses are errors (and every other status is a success). */
  readonly httpErrorCodes?: ReadonlySet<number>;
  /** Envoy's always_eject_one_host: allow one ejection even past maxEjectionPercent. */
  readonly isOneEjectionAlwaysAllowed: boolean;
}

/** Weft settings that Istio's OutlierDetection cannot express; every field has a default. */
export interface OutlierSettingsOptions {
  readonly maxEjectionTimeMs?: number;
  readonly isOneEjectionAlwaysAllowed?: boolean;
}

export const OUTLIER_DEFAULTS = Object.freeze({
  consecutive5xxErrors: 5,
  /** Envoy counts gateway failures but enforces them at 0% unless Istio sets the field. */
  consecutiveGatewayErrors: 0,
  consecutiveLocalOriginFailures: 5,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
  minHealthPercent: 0,
});

/**
 * Applies Istio's translation (pilot `applyOutlierDetection`) and Envoy's defaults:
 * - consecutive5xxErrors unset → 5; 0 → off. consecutiveGatewayErrors unset or 0 → off.
 * - consecutiveLocalOriginFailures only with splitExternalLocalOriginErrors; unset or 0 → Envoy's
 *   default 5 (Istio only forwards values > 0, so 0 cannot switch it off).
 * - maxEjectionPercent 0 → 10 (Istio cannot tell 0 from unset and leaves Envoy's default).
 * - minHealthPercent becomes the healthy panic threshold, default 0 (panic mode off).
 * - max ejection time: Envoy's default 300 s, or the base ejection time if that is longer.
 */
export function resolveOutlierSettings(
  policy: OutlierDetectionPolicy,
  options: OutlierSettingsOptions = {},
): OutlierSettings {
  const split = policy.splitExternalLocalOriginErrors === true;
  const baseEjectionTimeMs = positiveOr(policy.baseEjectionTime, OUTLIER_DEFAULTS.baseEjectionTimeMs);
  const codes = policy.outlierDetectionHttpErrorCodes;
  return Object.freeze({
    consecutive5xxErrors: countOr(policy.consecutive5xxErrors, OUTLIER_DEFAULTS.consecutive5xxErrors),
    consecutiveGatewayErrors: countOr(
      policy.consecutiveGatewayErrors,
      OUTLIER_DEFAULTS.consecutiveGatewayErrors,
    ),
    splitExternalLocalOriginErrors: split,
    consecutiveLocalOriginFailures: split
      ? positiveOr(policy.consecutiveLocalOriginFailures, OUTLIER_DEFAULTS.consecutiveLocalOriginFailures)
      : 0,
    intervalMs: positiveOr(policy.interval, OUTLIER_DEFAULTS.intervalMs),
    baseEjectionTimeMs,
    maxEjectionTimeMs: Math.max(
      positiveOr(options.maxEjectionTimeMs, OUTLIER_DEFAULTS.maxEjectionTimeMs),
      baseEjectionTimeMs,
    ),
    maxEjectionPercent: clampPercent(
      positiveOr(policy.maxEjectionPercent, OUTLIER_DEFAULTS.maxEjectionPercent),
    ),
    minHealthPercent: clampPercent(policy.minHealthPercent ?? OUTLIER_DEFAULTS.minHealthPercent),
    ...(codes === undefined || codes.length === 0 ? {} : { httpErrorCodes: new Set(codes) }),
    isOneEjectionAlwaysAllowed: options.isOneEjectionAlwaysAllowed ?? false,
  });
}

function countOr(value: number | undefined, fallback: number): number {
  return value === undefined || !Number.isFinite(value) || value < 0 ? fallback : Math.trunc(value);
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value === undefined || !Number.isFinite(value) || value <= 0 ? fallback : value;
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}
