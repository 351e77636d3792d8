import { z } from 'zod';
import type { KindDefinition } from '../kind-definition.ts';
import { cappedArray, positiveDurationMs } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';
import {
  checkTargeting,
  foldTargetRefs,
  policyTargetingFields,
  targetRefDeprecation,
} from './policy-targeting.ts';

/**
 * RequestAuthentication (security.istio.io): which JWTs a workload accepts and where it finds them.
 *
 * Normalized output: `jwtRules[].timeout` is in milliseconds (the field keeps Istio's name); the
 * `jwks_uri` spelling becomes `jwksUri`; header names are lower-cased, as Node delivers them;
 * `forwardOriginalToken` is always present (false by default); an empty `outputPayloadToHeader`
 * (proto3's "unset") is dropped; the hidden singular `targetRef` is folded into `targetRefs`.
 */

/** RFC 9110 token characters: anything else can never name a header a request carries. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Istio's ValidateStrictHTTPHeaderName, used for headers it writes (outputClaimToHeaders). */
const STRICT_HEADER_NAME = /^[-_A-Za-z0-9]+$/;

const headerName = (field: string) =>
  z
    .string()
    .min(1, `${field} must not be empty: name the header, e.g. x-jwt-assertion`)
    .regex(HEADER_NAME, `${field} is not a valid HTTP header name: use letters, digits and "-"`)
    .transform((name) => name.toLowerCase());

export const jwtHeaderSchema = z.strictObject({
  name: headerName('fromHeaders[].name'),
  prefix: z.string().optional(),
});

export const claimToHeaderSchema = z.strictObject({
  header: z
    .string()
    .min(1, 'header must not be empty: name the header to write, e.g. x-jwt-group')
    .regex(
      STRICT_HEADER_NAME,
      'header may contain only letters, digits, "-" and "_" (Istio rule), e.g. x-jwt-group',
    )
    .transform((name) => name.toLowerCase()),
  claim: z.string().min(1, 'claim must not be empty: name the claim to copy, e.g. group or nested.key.group'),
});

const MAX_JWKS_URI_LENGTH = 2048;

const jwksUri = z
  .string()
  .min(1, 'jwksUri must not be empty: give the URL of the key set or remove the field')
  .max(MAX_JWKS_URI_LENGTH, `jwksUri must be at most ${MAX_JWKS_URI_LENGTH} characters`)
  .superRefine((text, context) => {
    const url = URL.parse(text);
    if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
      addProblem(
        context,
        `jwksUri "${text}" must be an http:// or https:// URL, e.g. https://example.com/.well-known/jwks.json`,
      );
    }
  });

/** A JWK set `{ "keys": [...] }` or one JWK, as Istio's jwk.Parse accepts; keys need a `kty`. */
const jwksDocument = z.string().superRefine((text, context) => {
  const fix = 'paste the JSON key set, e.g. {"keys":[{"kty":"RSA","n":"…","e":"AQAB"}]}';
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    addProblem(
      context,
      `jwks is not valid JSON (${error instanceof Error ? error.message : String(error)}): ${fix}`,
    );
    return;
  }
  const isKey = (key: unknown) =>
    typeof key === 'object' && key !== null && typeof Reflect.get(key, 'kty') === 'string';
  const keys = typeof document === 'object' && document !== null ? Reflect.get(document, 'keys') : undefined;
  if (Array.isArray(keys) ? !keys.every(isKey) : !isKey(document)) {
    addProblem(context, `jwks is not a JWK set (every key needs a "kty"): ${fix}`);
  }
});

/** Istio's agent.ValidateDuration: at least 1ms, in whole milliseconds. */
const jwksFetchTimeoutMs = positiveDurationMs.refine(
  (ms) => Number.isInteger(ms),
  'timeout must be a whole number of milliseconds (Istio rule), e.g. "5s" or "1500ms"',
);

const nonEmptyNames = (field: string, max?: number) =>
  cappedArray(z.string().min(1, `empty ${field} entry: remove it`), max).optional();

export const jwtRuleSchema = z
  .strictObject({
    issuer: z
      .string({
        error: 'issuer is required: give the "iss" value of accepted tokens, e.g. https://example.com',
      })
      .min(1, 'issuer must not be empty: give the "iss" value of accepted tokens, e.g. https://example.com'),
    audiences: nonEmptyNames('audiences'),
    jwksUri: jwksUri.optional(),
    /** Istio's CRD accepts this proto spelling too (kubebuilder altName). */
    jwks_uri: jwksUri.optional(),
    jwks: jwksDocument.optional(),
    fromHeaders: cappedArray(jwtHeaderSchema).optional(),
    fromParams: nonEmptyNames('fromParams'),
    outputPayloadToHeader: z
      .string()
      .refine((name) => name === '' || HEADER_NAME.test(name), {
        message: 'outputPayloadToHeader is not a valid HTTP header name: use letters, digits and "-"',
      })
      .optional(),
    fromCookies: nonEmptyNames('fromCookies'),
    forwardOriginalToken: z.boolean().default(false),
    outputClaimToHeaders: cappedArray(claimToHeaderSchema).optional(),
    timeout: jwksFetchTimeoutMs.optional(),
    spaceDelimitedClaims: nonEmptyNames('spaceDelimitedClaims', 64),
  })
  .superRefine((rule, context) => {
    if (rule.jwksUri !== undefined && rule.jwks_uri !== undefined) {
      addProblem(context, 'jwks_uri is another spelling of jwksUri: set only jwksUri', ['jwks_uri']);
    }
    if (rule.jwks !== undefined && (rule.jwksUri ?? rule.jwks_uri) !== undefined) {
      addProblem(
        context,
        'only one of jwks and jwksUri can be set (Istio rule): keep the inline keys or the URL',
        ['jwks'],
      );
    }
    const seen = new Set<string>();
    rule.outputClaimToHeaders?.forEach(({ header }, index) => {
      if (seen.has(header)) {
        addProblem(context, `header "${header}" is written twice: keep one`, [
          'outputClaimToHeaders',
          index,
          'header',
        ]);
      }
      seen.add(header);
    });
  })
  .transform(({ jwks_uri, jwksUri, outputPayloadToHeader, ...rule }) => ({
    ...rule,
    ...((jwksUri ?? jwks_uri) === undefined ? {} : { jwksUri: jwksUri ?? jwks_uri }),
    ...(outputPayloadToHeader ? { outputPayloadToHeader: outputPayloadToHeader.toLowerCase() } : {}),
  }));

export const requestAuthenticationSpecSchema = z
  .strictObject({
    ...policyTargetingFields,
    jwtRules: cappedArray(jwtRuleSchema, 4096).optional(),
  })
  .superRefine(checkTargeting)
  .transform(foldTargetRefs);

export type RequestAuthenticationSpec = z.output<typeof requestAuthenticationSpecSchema>;

export const requestAuthenticationKind: KindDefinition<RequestAuthenticationSpec> = {
  kind: 'RequestAuthentication',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  isSecurity: true,
  specSchema: requestAuthenticationSpecSchema,
  unsupportedFields: [],
  deprecatedFields: [
    targetRefDeprecation,
    {
      path: 'jwtRules[].jwks_uri',
      replacement: 'jwtRules[].jwksUri',
      reason: 'the proto field name is accepted as an alternative spelling; it is read as jwksUri',
    },
  ],
};
