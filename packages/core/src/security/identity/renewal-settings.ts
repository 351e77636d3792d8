/**
 * When a workload renews its SVID. Renewal starts at `renewAtFraction` of its lifetime, earlier by
 * up to `jitterFraction` of it (so that workloads issued together do not all renew together);
 * failures are retried with full-jitter exponential back-off, and flagged `expiring` once less
 * than `expiringFraction` of the lifetime is left (bad-inputs E1: renew at ≤ 50%, well before expiry).
 */
export interface RenewalSettings {
  readonly renewAtFraction: number;
  readonly jitterFraction: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly expiringFraction: number;
  /**
   * After the agent starts signing with another root (or drops the one this SVID chains to),
   * renew within a random delay below this (bad-inputs E13, E16).
   */
  readonly rotationJitterMs: number;
}

export const RENEWAL_DEFAULTS: RenewalSettings = Object.freeze({
  renewAtFraction: 0.5,
  jitterFraction: 0.1,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  expiringFraction: 0.2,
  rotationJitterMs: 30_000,
});

export function resolveRenewalSettings(given: Partial<RenewalSettings> = {}): RenewalSettings {
  const settings = { ...RENEWAL_DEFAULTS, ...given };
  const fraction = (name: keyof RenewalSettings, value: number): void => {
    if (!(value >= 0 && value < 1)) throw new RangeError(`renewal.${name} must be in [0, 1), got ${value}`);
  };
  fraction('renewAtFraction', settings.renewAtFraction);
  fraction('jitterFraction', settings.jitterFraction);
  fraction('expiringFraction', settings.expiringFraction);
  if (settings.renewAtFraction - settings.jitterFraction <= 0) {
    throw new RangeError('renewal.jitterFraction must be smaller than renewal.renewAtFraction');
  }
  for (const name of ['retryBaseMs', 'retryMaxMs', 'rotationJitterMs'] as const) {
    if (!(Number.isFinite(settings[name]) && settings[name] > 0)) {
      throw new RangeError(`renewal.${name} must be a positive number`);
    }
  }
  return settings;
}

/**
 * Wall-clock ms at which a certificate held from `startMs` (its notBefore, or when it arrived if
 * later) until `notAfterMs` is renewed; `draw` in [0, 1).
 */
export function renewalTimeMs(
  startMs: number,
  notAfterMs: number,
  settings: RenewalSettings,
  draw: number,
): number {
  const lifetimeMs = notAfterMs - startMs;
  return startMs + lifetimeMs * (settings.renewAtFraction - settings.jitterFraction * draw);
}
