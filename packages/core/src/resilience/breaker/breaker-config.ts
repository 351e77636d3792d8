import { z } from 'zod';
import { positiveDurationMs } from '../../config/schema-primitives.ts';

/** A call breaker's settings, normalized (durations in ms, defaults applied). */
export interface CallBreakerSettings {
  /** Open when more than this percentage of the calls in the window failed. */
  readonly errorThresholdPercentage: number;
  /** Never open on fewer calls than this in the window. */
  readonly volumeThreshold: number;
  /** How long the breaker stays open before it lets one trial call through (half-open). */
  readonly resetTimeoutMs: number;
  /** The rolling window the percentages are computed over. */
  readonly rollingCountTimeoutMs: number;
  /** Buckets the window is divided into; the window slides one bucket at a time. */
  readonly rollingCountBuckets: number;
}

/**
 * Defaults: opossum's for the threshold (50%), reset (30 s) and window (10 s in 10 buckets), but a
 * volume threshold of 20 calls (Hystrix's) instead of opossum's 0, so that one early failure
 * cannot open a breaker on a quiet route.
 */
export const CALL_BREAKER_DEFAULTS: CallBreakerSettings = Object.freeze({
  errorThresholdPercentage: 50,
  volumeThreshold: 20,
  resetTimeoutMs: 30_000,
  rollingCountTimeoutMs: 10_000,
  rollingCountBuckets: 10,
});

const MAX_DURATION_MS = 24 * 60 * 60 * 1000;

/**
 * The route extension as users write it (Weft's, not Istio's): durations as Istio writes them
 * (`30s`, `500ms`). Every field is optional.
 */
export const callBreakerConfigSchema = z
  .strictObject({
    errorThresholdPercentage: z
      .number()
      .min(0, 'errorThresholdPercentage must be 0–100')
      .max(100, 'errorThresholdPercentage must be 0–100')
      .optional(),
    volumeThreshold: z
      .number()
      .int('volumeThreshold must be a whole number')
      .min(0, 'volumeThreshold must be ≥ 0')
      .max(1_000_000, 'volumeThreshold must be at most 1000000')
      .optional(),
    resetTimeout: positiveDurationMs
      .refine((ms) => ms <= MAX_DURATION_MS, 'resetTimeout must be at most 24h')
      .optional(),
    rollingCountTimeout: positiveDurationMs
      .refine((ms) => ms <= MAX_DURATION_MS, 'rollingCountTimeout must be at most 24h')
      .optional(),
    rollingCountBuckets: z
      .number()
      .int('rollingCountBuckets must be a whole number')
      .min(1, 'rollingCountBuckets must be 1–1000')
      .max(1000, 'rollingCountBuckets must be 1–1000')
      .optional(),
  })
  .transform(
    (config): CallBreakerSettings =>
      Object.freeze({
        errorThresholdPercentage:
          config.errorThresholdPercentage ?? CALL_BREAKER_DEFAULTS.errorThresholdPercentage,
        volumeThreshold: config.volumeThreshold ?? CALL_BREAKER_DEFAULTS.volumeThreshold,
        resetTimeoutMs: config.resetTimeout ?? CALL_BREAKER_DEFAULTS.resetTimeoutMs,
        rollingCountTimeoutMs: config.rollingCountTimeout ?? CALL_BREAKER_DEFAULTS.rollingCountTimeoutMs,
        rollingCountBuckets: config.rollingCountBuckets ?? CALL_BREAKER_DEFAULTS.rollingCountBuckets,
      }),
  )
  .superRefine((settings, context) => {
    if (settings.rollingCountTimeoutMs / settings.rollingCountBuckets < 1) {
      context.addIssue({
        code: 'custom',
        path: ['rollingCountBuckets'],
        message: `rollingCountTimeout (${settings.rollingCountTimeoutMs}ms) must give each of the ${settings.rollingCountBuckets} buckets at least 1ms`,
      });
    }
  });

/** What the schema accepts (the YAML form). */
export type CallBreakerConfig = z.input<typeof callBreakerConfigSchema>;
