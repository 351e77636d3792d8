import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { AuthenticationFailureCode } from './authentication-result.ts';
import { type JwksCache, JwksUnavailableError } from './jwks-cache.ts';
import { ALLOWED_ALGORITHMS } from './jwt-limits.ts';

/** Where a rule's keys come from: inline `jwks`, compiled once, or a `jwksUri` in the cache. */
export type RuleKeys =
  | { readonly kind: 'inline'; readonly keys: JWTVerifyGetKey }
  | { readonly kind: 'remote'; readonly uri: string; readonly timeoutMs: number }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface VerificationPolicy {
  readonly issuer: string;
  /** When set, the token's `aud` must hold one of them; when unset, `aud` is not checked (Istio). */
  readonly audiences?: readonly string[];
  readonly keys: RuleKeys;
}

export interface VerificationContext {
  readonly jwksCache: JwksCache;
  /** Wall-clock time in epoch milliseconds (`exp`/`nbf` are wall-clock). */
  readonly now: () => number;
  readonly clockToleranceSeconds: number;
  readonly requireExpiration: boolean;
}

export type Verification =
  | { readonly ok: true; readonly payload: JWTPayload }
  | { readonly ok: false; readonly code: AuthenticationFailureCode; readonly reason: string };

/**
 * Verifies a compact JWS against one rule with jose: signature with a key of the rule's set, only
 * the asymmetric algorithms of ALLOWED_ALGORITHMS, issuer, audiences, `exp`/`nbf` with the
 * tolerance. An unknown `kid` refetches a remote key set once (rate-limited by the cache).
 */
export async function verifyToken(
  token: string,
  policy: VerificationPolicy,
  context: VerificationContext,
): Promise<Verification> {
  const options = {
    issuer: policy.issuer,
    ...(policy.audiences === undefined || policy.audiences.length === 0
      ? {}
      : { audience: [...policy.audiences] }),
    algorithms: [...ALLOWED_ALGORITHMS],
    currentDate: new Date(context.now()),
    clockTolerance: context.clockToleranceSeconds,
    requiredClaims: context.requireExpiration ? ['exp'] : [],
  };
  const { keys } = policy;
  if (keys.kind === 'invalid') return { ok: false, code: 'jwks-unavailable', reason: keys.reason };
  try {
    const lookup =
      keys.kind === 'inline' ? keys.keys : await context.jwksCache.keysFor(keys.uri, keys.timeoutMs);
    try {
      return { ok: true, payload: (await jwtVerify(token, lookup, options)).payload };
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || keys.kind !== 'remote') throw error;
      const refreshed = await context.jwksCache.refreshAfterUnknownKey(keys.uri, keys.timeoutMs);
      if (refreshed === undefined) throw error;
      return { ok: true, payload: (await jwtVerify(token, refreshed, options)).payload };
    }
  } catch (error) {
    return { ok: false, ...classify(error, policy.issuer) };
  }
}

function classify(error: unknown, issuer: string): { code: AuthenticationFailureCode; reason: string } {
  if (error instanceof JwksUnavailableError) {
    return { code: 'jwks-unavailable', reason: `Jwks for issuer ${issuer} is unavailable: ${error.message}` };
  }
  if (error instanceof errors.JWTExpired) return { code: 'expired', reason: 'Jwt is expired' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return { code: 'not-yet-valid', reason: 'Jwt is not yet valid' };
    if (error.claim === 'aud')
      return { code: 'audience-not-allowed', reason: 'Audiences in Jwt are not allowed' };
    if (error.claim === 'iss')
      return { code: 'issuer-not-configured', reason: 'Jwt issuer is not configured' };
    if (error.reason === 'missing')
      return { code: 'missing-claim', reason: `Jwt is missing the "${error.claim}" claim` };
    return { code: 'malformed', reason: `Jwt has an invalid "${error.claim}" claim` };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return { code: 'algorithm-not-allowed', reason: 'Jwt algorithm is not allowed' };
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return { code: 'unknown-key', reason: "Jwks doesn't have key to match kid or alg from Jwt" };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return { code: 'bad-signature', reason: 'Jwt verification fails' };
  }
  return {
    code: 'malformed',
    reason: 'Jwt is not in the form of Header.Payload.Signature with valid encoding',
  };
}
