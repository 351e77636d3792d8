/**
 * The bounds request authentication works within. Algorithms are an explicit allow-list of
 * asymmetric signatures: `none` and HMAC are never accepted, so a public key can never be used as
 * an HMAC secret (algorithm confusion, bad-inputs F1).
 */
export const ALLOWED_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** A token longer than this is refused before any parsing (bad-inputs F5); Node's header cap is 16 KiB. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Leeway for `exp` and `nbf`. Envoy's default is 60 s; Weft allows a few seconds only
 * (bad-inputs F2, JWT-SVID), configurable for issuers with poor clocks.
 */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

/** Istio's default `jwtRules[].timeout` for fetching a key set. */
export const DEFAULT_JWKS_FETCH_TIMEOUT_MS = 5_000;
/** How often a key set in use is fetched again (Istio's default refresh interval is 20 min). */
export const DEFAULT_JWKS_REFRESH_INTERVAL_MS = 20 * 60_000;
/** At most one fetch per key set in this window when tokens carry an unknown `kid` (bad-inputs F7). */
export const DEFAULT_UNKNOWN_KEY_COOLDOWN_MS = 30_000;
/** After a failed fetch, tokens of that issuer fail fast for this long before the next attempt. */
export const DEFAULT_JWKS_RETRY_AFTER_FAILURE_MS = 5_000;
/** A key set document larger than this is refused. */
export const MAX_JWKS_BYTES = 512 * 1024;
/** Key sets (by URI) kept; the least recently used beyond this are dropped and fetched again. */
export const DEFAULT_MAX_KEY_SETS = 256;
