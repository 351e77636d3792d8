import { checkTrustDomain } from '@weft/core';

/** Operator-supplied CA material (Istio's plug-in CA), as PEM text. */
export interface PluggedCaFiles {
  /** The CA certificate the agent signs with: a root, or an intermediate. */
  readonly certificate: string;
  /** Its private key (PKCS#8, SEC1 or PKCS#1 PEM). */
  readonly key: string;
  /** Intermediates between `certificate` and a root, if any (a root here is ignored). */
  readonly chain?: string;
  /** Every root workloads trust; several during a rotation (old and new). */
  readonly roots: string;
}

/** The agent's certificate authority (docs/ca.md). */
export interface CaOptions {
  /** The mesh's trust domain: SVIDs are `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`. `cluster.local` by default. */
  readonly trustDomain?: string;
  /** Lifetime of an SVID. 24 h by default. */
  readonly svidTtlMs?: number;
  /** How far an SVID's notBefore is set back, for peers whose clock runs behind (bad-inputs E2). 60 s. */
  readonly backdateMs?: number;
  /** Lifetime of a root the agent generates. 10 years. */
  readonly rootTtlMs?: number;
  /** Longest TTL a join token may be created with. 30 days. */
  readonly maxJoinTokenTtlMs?: number;
  /** How often the CA state is read back from the store (another agent may have rotated). 10 s. */
  readonly refreshIntervalMs?: number;
  /** Sign with this CA instead of generating one (nothing is then written to the store). */
  readonly plugged?: PluggedCaFiles;
}

export interface CaSettings {
  readonly trustDomain: string;
  readonly svidTtlMs: number;
  readonly backdateMs: number;
  readonly rootTtlMs: number;
  readonly maxJoinTokenTtlMs: number;
  readonly refreshIntervalMs: number;
  readonly plugged: PluggedCaFiles | undefined;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export const CA_DEFAULTS = Object.freeze({
  trustDomain: 'cluster.local',
  svidTtlMs: DAY_MS,
  backdateMs: 60_000,
  rootTtlMs: 3650 * DAY_MS,
  maxJoinTokenTtlMs: 30 * DAY_MS,
  refreshIntervalMs: 10_000,
});

export function resolveCaSettings(options: CaOptions = {}): CaSettings {
  const settings = { ...CA_DEFAULTS, ...definedOnly(options), plugged: options.plugged };
  checkTrustDomain(settings.trustDomain);
  const positive = (name: keyof typeof CA_DEFAULTS, value: number): void => {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`ca.${name} must be a positive number`);
  };
  positive('svidTtlMs', settings.svidTtlMs);
  positive('rootTtlMs', settings.rootTtlMs);
  positive('maxJoinTokenTtlMs', settings.maxJoinTokenTtlMs);
  positive('refreshIntervalMs', settings.refreshIntervalMs);
  if (!(Number.isFinite(settings.backdateMs) && settings.backdateMs >= 0 && settings.backdateMs <= HOUR_MS)) {
    throw new RangeError('ca.backdateMs must be between 0 and one hour');
  }
  if (settings.svidTtlMs < 60_000) throw new RangeError('ca.svidTtlMs must be at least one minute');
  return settings;
}

function definedOnly(options: CaOptions): Partial<typeof CA_DEFAULTS> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options))
    if (value !== undefined && key !== 'plugged') result[key] = value;
  return result as Partial<typeof CA_DEFAULTS>;
}
