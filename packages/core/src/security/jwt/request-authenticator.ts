import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import type { RequestAuthenticationResource } from '../../config/resources.ts';
import type { RequestAuth } from '../authz/request-auth.ts';
import { type AuthenticationResult, type HeaderMutations, rejected } from './authentication-result.ts';
import type { JwksCache } from './jwks-cache.ts';
import {
  ALLOWED_ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_JWKS_FETCH_TIMEOUT_MS,
  MAX_TOKEN_LENGTH,
} from './jwt-limits.ts';
import { type ClaimToHeader, claimHeaders, payloadHeaderValue } from './output-headers.ts';
import {
  compileTokenPlaces,
  type FoundToken,
  type TokenPlace,
  type TokenSource,
  tokensIn,
} from './token-locations.ts';
import { type RuleKeys, type VerificationContext, verifyToken } from './verify-token.ts';

export interface RequestAuthenticatorOptions {
  /** Remote key sets, shared across snapshots (one per mesh). */
  readonly jwksCache: JwksCache;
  /** Wall-clock time in epoch milliseconds, for `exp` and `nbf`; `Date.now` by default. */
  readonly now?: () => number;
  readonly clockToleranceSeconds?: number;
  /** Refuse tokens without `exp` (JWT-SVID requires it; Istio does not). */
  readonly requireExpiration?: boolean;
  readonly maxTokenLength?: number;
}

/** Claims Istio always treats as space-separated lists. */
const SPACE_DELIMITED_BY_DEFAULT = ['scope', 'permission'];

interface CompiledJwtRule {
  /** `namespace/name jwtRules[i]`, for messages. */
  readonly source: string;
  readonly issuer: string;
  readonly audiences?: readonly string[];
  readonly keys: RuleKeys;
  readonly forwardOriginalToken: boolean;
  readonly outputPayloadToHeader?: string;
  readonly outputClaimToHeaders: readonly ClaimToHeader[];
  readonly spaceDelimitedClaims: ReadonlySet<string>;
}

type JwtRuleSpec = NonNullable<RequestAuthenticationResource['spec']['jwtRules']>[number];

/**
 * The RequestAuthentication policies of one workload (their jwtRules merged, as Istio does),
 * compiled once per snapshot. For each request:
 * - no token in any place a rule reads: `anonymous` — the request goes on unauthenticated, and an
 *   AuthorizationPolicy must require `requestPrincipals` where a token is needed;
 * - tokens in more than one place, or twice in one: refused;
 * - one token: the rules that read that place and name the token's `iss` verify it; it must pass
 *   one of them, or the request is refused with 401. A token whose issuer no rule names is refused,
 *   never ignored (bad-inputs F3).
 * Headers a rule writes (outputPayloadToHeader, outputClaimToHeaders) are removed from every
 * request first, so a caller can never supply them; the token's header is removed unless the
 * verifying rule says `forwardOriginalToken`. Tokens in query parameters and cookies stay, as in
 * Envoy.
 */
export class RequestAuthenticator {
  /** Rules that cannot verify anything (bad inline keys, no key source), for diagnostics. */
  readonly problems: readonly string[];
  readonly #rules: readonly CompiledJwtRule[];
  readonly #places: readonly TokenPlace[];
  readonly #anonymous: AuthenticationResult;
  readonly #outputHeaders: readonly string[];
  readonly #context: VerificationContext;
  readonly #maxTokenLength: number;

  constructor(policies: readonly RequestAuthenticationResource[], options: RequestAuthenticatorOptions) {
    const problems: string[] = [];
    const specs: { readonly spec: JwtRuleSpec; readonly source: string }[] = policies.flatMap((policy) =>
      (policy.spec.jwtRules ?? []).map((spec, index) => ({
        spec,
        source: `${policy.metadata.namespace}/${policy.metadata.name} jwtRules[${index}]`,
      })),
    );
    this.#rules = specs.map(({ spec, source }) => compileRule(spec, source, problems));
    this.#places = compileTokenPlaces(specs.map(({ spec }) => spec));
    this.#outputHeaders = Object.freeze([
      ...new Set(
        this.#rules.flatMap((rule) => [
          ...(rule.outputPayloadToHeader === undefined ? [] : [rule.outputPayloadToHeader]),
          ...rule.outputClaimToHeaders.map((mapping) => mapping.header),
        ]),
      ),
    ]);
    this.#anonymous = Object.freeze({
      outcome: 'anonymous',
      headers: Object.freeze({ remove: this.#outputHeaders, set: Object.freeze([]) }),
    });
    this.#context = {
      jwksCache: options.jwksCache,
      now: options.now ?? Date.now,
      clockToleranceSeconds: options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
      requireExpiration: options.requireExpiration ?? false,
    };
    this.#maxTokenLength = options.maxTokenLength ?? MAX_TOKEN_LENGTH;
    this.problems = Object.freeze(problems);
  }

  /** Whether any jwtRule applies; without one, every request is `anonymous` and untouched. */
  get hasRules(): boolean {
    return this.#rules.length > 0;
  }

  /** Starts fetching every remote key set the rules name, so the first tokens need not wait. */
  prefetchKeys(): void {
    for (const rule of this.#rules) {
      if (rule.keys.kind === 'remote') this.#context.jwksCache.prefetch(rule.keys.uri, rule.keys.timeoutMs);
    }
  }

  /**
   * Authenticates one request. Returns the result itself when no verification is needed (no
   * token, or a token refused on sight) and a promise when a signature must be checked.
   */
  authenticate(request: TokenSource): AuthenticationResult | Promise<AuthenticationResult> {
    let found: FoundToken | undefined;
    for (const place of this.#places) {
      const inPlace = tokensIn(place, request);
      if (inPlace === undefined) continue;
      if (found !== undefined || inPlace.tokens.length > 1) {
        return rejected('multiple-tokens', 'Jwt tokens were found in more than one place; send exactly one');
      }
      found = inPlace;
    }
    if (found === undefined) return this.#anonymous;
    const token = found.tokens[0] as string;
    const screened = this.#screen(token);
    if (typeof screened !== 'string') return screened;
    const candidates = found.ruleIndexes
      .map((index) => this.#rules[index] as CompiledJwtRule)
      .filter((rule) => rule.issuer === screened);
    if (candidates.length === 0) {
      return rejected(
        'issuer-not-configured',
        `Jwt issuer is not configured: no jwtRule reads a token of this issuer from ${describePlace(found.place)}`,
      );
    }
    return this.#verify(token, found.place, candidates);
  }

  /** Cheap checks before any cryptography; the token's issuer when they pass. */
  #screen(token: string): string | AuthenticationResult {
    if (token.length > this.#maxTokenLength) {
      return rejected('too-large', `Jwt is longer than ${this.#maxTokenLength} characters`);
    }
    const parts = token.split('.').length;
    if (parts === 5)
      return rejected('jwe-not-accepted', 'Jwt is encrypted (JWE); only signed tokens (JWS) are accepted');
    if (parts !== 3) return rejected('malformed', 'Jwt is not in the form of Header.Payload.Signature');
    let payload: JWTPayload;
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.includes(header.alg)) {
        return rejected(
          'algorithm-not-allowed',
          `Jwt algorithm ${JSON.stringify(header.alg)} is not allowed; use one of ${ALLOWED_ALGORITHMS.join(', ')}`,
        );
      }
      payload = decodeJwt(token);
    } catch {
      return rejected('malformed', 'Jwt is not in the form of Header.Payload.Signature with valid encoding');
    }
    if (typeof payload.iss !== 'string') return rejected('malformed', 'Jwt has no "iss" claim');
    return payload.iss;
  }

  async #verify(
    token: string,
    place: TokenPlace,
    candidates: readonly CompiledJwtRule[],
  ): Promise<AuthenticationResult> {
    let firstFailure: AuthenticationResult | undefined;
    for (const rule of candidates) {
      const verification = await verifyToken(token, rule, this.#context);
      if (!verification.ok) {
        firstFailure ??= rejected(verification.code, verification.reason);
        continue;
      }
      const { payload } = verification;
      return {
        outcome: 'authenticated',
        issuer: rule.issuer,
        auth: requestAuth(payload, rule),
        headers: this.#mutations(token, place, rule, payload),
      };
    }
    return firstFailure ?? rejected('issuer-not-configured', 'Jwt issuer is not configured');
  }

  #mutations(token: string, place: TokenPlace, rule: CompiledJwtRule, payload: JWTPayload): HeaderMutations {
    const set = claimHeaders(payload, rule.outputClaimToHeaders);
    if (rule.outputPayloadToHeader !== undefined)
      set.push([rule.outputPayloadToHeader, payloadHeaderValue(token)]);
    const stripToken = !rule.forwardOriginalToken && place.kind === 'header';
    return { remove: stripToken ? [...this.#outputHeaders, place.name] : this.#outputHeaders, set };
  }
}

function compileRule(spec: JwtRuleSpec, source: string, problems: string[]): CompiledJwtRule {
  return {
    source,
    issuer: spec.issuer,
    ...(spec.audiences === undefined || spec.audiences.length === 0 ? {} : { audiences: spec.audiences }),
    keys: ruleKeys(spec, source, problems),
    forwardOriginalToken: spec.forwardOriginalToken === true,
    ...(spec.outputPayloadToHeader === undefined
      ? {}
      : { outputPayloadToHeader: spec.outputPayloadToHeader }),
    outputClaimToHeaders: spec.outputClaimToHeaders ?? [],
    spaceDelimitedClaims: new Set([...SPACE_DELIMITED_BY_DEFAULT, ...(spec.spaceDelimitedClaims ?? [])]),
  };
}

function ruleKeys(spec: JwtRuleSpec, source: string, problems: string[]): RuleKeys {
  if (spec.jwks !== undefined) {
    try {
      const document: unknown = JSON.parse(spec.jwks);
      const set = (
        typeof document === 'object' && document !== null && 'keys' in document
          ? document
          : { keys: [document] }
      ) as JSONWebKeySet;
      return { kind: 'inline', keys: createLocalJWKSet(set) };
    } catch (error) {
      const reason = `${source}: the inline jwks cannot be used (${error instanceof Error ? error.message : String(error)})`;
      problems.push(reason);
      return { kind: 'invalid', reason };
    }
  }
  if (spec.jwksUri !== undefined) {
    return { kind: 'remote', uri: spec.jwksUri, timeoutMs: spec.timeout ?? DEFAULT_JWKS_FETCH_TIMEOUT_MS };
  }
  const reason =
    `${source}: neither jwksUri nor jwks is set, and Weft does not discover keys through OpenID ` +
    'configuration: tokens of this issuer are refused';
  problems.push(reason);
  return { kind: 'invalid', reason };
}

function requestAuth(payload: JWTPayload, rule: CompiledJwtRule): RequestAuth {
  const { iss, sub, aud, azp } = payload;
  return {
    ...(typeof iss === 'string' && typeof sub === 'string' ? { principal: `${iss}/${sub}` } : {}),
    audiences:
      typeof aud === 'string'
        ? [aud]
        : Array.isArray(aud)
          ? aud.filter((item) => typeof item === 'string')
          : [],
    ...(typeof azp === 'string' ? { presenter: azp } : {}),
    claims: payload,
    spaceDelimitedClaims: rule.spaceDelimitedClaims,
  };
}

function describePlace(place: TokenPlace): string {
  switch (place.kind) {
    case 'header':
      return `the ${place.name} header`;
    case 'param':
      return `the ${place.name} query parameter`;
    case 'cookie':
      return `the ${place.name} cookie`;
  }
}
