/**
 * What has been revoked, as one store record shared by every agent: join tokens by id (kept
 * until they would have expired anyway), and identities (every token and SVID issued for the
 * identity before the revocation stops working; kept until all of those have expired).
 */
export const REVOCATIONS_RECORD = 'tokens/revocations';
const FORMAT = 'weft-revocations/1';

export interface Revocations {
  /** Token id → when the token expires (ms): after that the entry is useless and is dropped. */
  readonly tokens: Readonly<Record<string, number>>;
  /** SPIFFE ID → when it was revoked (ms). */
  readonly identities: Readonly<Record<string, number>>;
}

export const NO_REVOCATIONS: Revocations = Object.freeze({ tokens: {}, identities: {} });

export function readRevocations(value: unknown): Revocations {
  const record = value as { format?: unknown; tokens?: unknown; identities?: unknown } | null | undefined;
  if (record === undefined || record === null) return NO_REVOCATIONS;
  if (record.format !== FORMAT || !isNumberMap(record.tokens) || !isNumberMap(record.identities)) {
    throw new Error(`the stored record ${REVOCATIONS_RECORD} is not a ${FORMAT} record`);
  }
  return { tokens: record.tokens, identities: record.identities };
}

export function revocationsRecord(revocations: Revocations): unknown {
  return { format: FORMAT, ...revocations };
}

/** Drops entries that can no longer matter at `nowMs`: expired tokens, identities revoked long ago. */
export function pruneRevocations(
  revocations: Revocations,
  nowMs: number,
  keepIdentityMs: number,
): Revocations {
  return {
    tokens: Object.fromEntries(
      Object.entries(revocations.tokens).filter(([, expiresAtMs]) => expiresAtMs > nowMs),
    ),
    identities: Object.fromEntries(
      Object.entries(revocations.identities).filter(
        ([, revokedAtMs]) => revokedAtMs + keepIdentityMs > nowMs,
      ),
    ),
  };
}

/** Whether a credential for `spiffeId` issued at `issuedAtMs` (a token's iat, an SVID's notBefore) is revoked. */
export function isIdentityRevoked(revocations: Revocations, spiffeId: string, issuedAtMs: number): boolean {
  const revokedAtMs = revocations.identities[spiffeId];
  return revokedAtMs !== undefined && issuedAtMs <= revokedAtMs;
}

function isNumberMap(value: unknown): value is Record<string, number> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value).every((entry) => typeof entry === 'number' && Number.isFinite(entry))
  );
}
