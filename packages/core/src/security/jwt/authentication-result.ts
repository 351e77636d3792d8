import type { DeniedResponse } from '../authz/authz-decision.ts';
import type { RequestAuth } from '../authz/request-auth.ts';

/**
 * Why a token was refused; stable strings, safe as a metric label.
 * - `malformed`: not a compact JWS (bad base64, bad JSON, wrong number of parts);
 * - `jwe-not-accepted`: an encrypted token (five parts); only signed tokens are accepted;
 * - `too-large`: longer than the cap, refused before parsing;
 * - `multiple-tokens`: tokens in more than one place (or twice in one), which Istio refuses;
 * - `algorithm-not-allowed`: `none`, an HMAC algorithm, or anything but RS/PS/ES/EdDSA;
 * - `issuer-not-configured`: no jwtRule for the token's `iss` reads the place it was found in;
 * - `audience-not-allowed`: the rule lists audiences and the token has none of them;
 * - `missing-claim`: a claim the rule requires (`exp` when expiration is required) is absent;
 * - `expired`, `not-yet-valid`: `exp` / `nbf` against the clock, with the configured tolerance;
 * - `unknown-key`: no key of the issuer's key set fits the token's `kid` and `alg`;
 * - `bad-signature`: a key fits, the signature does not verify;
 * - `jwks-unavailable`: the issuer's key set could not be fetched, so no token of it can be verified.
 */
export type AuthenticationFailureCode =
  | 'malformed'
  | 'jwe-not-accepted'
  | 'too-large'
  | 'multiple-tokens'
  | 'algorithm-not-allowed'
  | 'issuer-not-configured'
  | 'audience-not-allowed'
  | 'missing-claim'
  | 'expired'
  | 'not-yet-valid'
  | 'unknown-key'
  | 'bad-signature'
  | 'jwks-unavailable';

/** Changes to make to the request before the application sees it. */
export interface HeaderMutations {
  /** Lower-case names to delete: the consumed token (unless forwarded) and spoofed output headers. */
  readonly remove: readonly string[];
  /** Lower-case names to set (outputPayloadToHeader, outputClaimToHeaders), replacing any value. */
  readonly set: readonly (readonly [string, string])[];
}

export type AuthenticationResult =
  /** No token in any place a jwtRule reads: the request goes on unauthenticated (Istio semantics). */
  | { readonly outcome: 'anonymous'; readonly headers: HeaderMutations }
  | {
      readonly outcome: 'authenticated';
      /** What authorization reads as `request.auth.*` and `requestPrincipals`. */
      readonly auth: RequestAuth;
      readonly issuer: string;
      readonly headers: HeaderMutations;
    }
  | {
      readonly outcome: 'rejected';
      readonly code: AuthenticationFailureCode;
      /** For logs and the response body; never contains the token. */
      readonly reason: string;
      /** 401 with `WWW-Authenticate: Bearer error="invalid_token"`. */
      readonly response: DeniedResponse;
    };

export function rejected(code: AuthenticationFailureCode, reason: string): AuthenticationResult {
  return {
    outcome: 'rejected',
    code,
    reason,
    response: {
      status: 401,
      body: reason,
      headers: [['www-authenticate', `Bearer error="invalid_token", error_description="${code}"`]],
    },
  };
}
