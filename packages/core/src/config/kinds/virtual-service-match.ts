import { z } from 'zod';
import { cappedArray, labels, mapOf, portNumber, stringMatch } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';
import { fqdnProblem, isDnsLabel, isIpOrCidr } from './network-address.ts';
import { HEADER_TOKEN } from './virtual-service-headers.ts';

/**
 * VirtualService match conditions: the HTTP `match[]` request (URI, headers, query parameters, …),
 * the L4 match fields that TLS and TCP routes share, and the `gateways` names both use.
 */

const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const JWT_CLAIM_PREFIX = '@request.auth.claims';

const namespaceName = z
  .string()
  .refine(isDnsLabel, 'namespace must be a DNS-1123 label (letters, digits and "-")');

/** `gateways` entries: `<namespace>/<name>`, or a bare name (`mesh`, or a gateway in this namespace). */
export const gatewayName = z.string().superRefine((name, context) => {
  const slash = name.indexOf('/');
  if (slash === -1) {
    addProblem(
      context,
      fqdnProblem(name) && `gateway "${name}" is invalid: use "<namespace>/<name>" or "mesh"`,
    );
    return;
  }
  if (!isDnsLabel(name.slice(0, slash)) || !isDnsLabel(name.slice(slash + 1))) {
    addProblem(context, `gateway "${name}" must be "<namespace>/<name>" with both parts DNS-1123 labels`);
  }
});

/** `@request.auth.claims.<claim>` or `@request.auth.claims[<claim>]…`: routing on a JWT claim. */
export function isJwtClaimHeader(name: string): boolean {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_PREFIX)) return false;
  const claim = name.slice(JWT_CLAIM_PREFIX.length);
  return (
    (claim.startsWith('.') && claim.length > 1) ||
    (claim.startsWith('[') && claim.endsWith(']') && claim.length > 2)
  );
}

function matchHeaderProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (isJwtClaimHeader(name) || PSEUDO_HEADERS.has(name) || HEADER_TOKEN.test(name)) return undefined;
  return `"${name}" is not a valid header name (RFC 7230 token characters only)`;
}

/** Istio's validateStringMatch: a regex is never empty; a prefix is empty only on `uri`. */
function checkedStringMatch(allowEmptyPrefix: boolean) {
  return stringMatch.superRefine((match, context) => {
    if (match.type === 'regex' && match.value === '') {
      addProblem(context, 'regex must not be empty; use {} to match any value');
    }
    if (match.type === 'prefix' && match.value === '' && !allowEmptyPrefix) {
      addProblem(context, 'prefix must not be empty; use {} to match any value');
    }
  });
}

const uriMatch = checkedStringMatch(true);
const valueMatch = checkedStringMatch(false);
/** In `withoutHeaders`, Istio reads `regex: "*"` (not RE2) as "the header is present". */
const withoutHeaderMatch = z.preprocess(
  (input) =>
    typeof input === 'object' && input !== null && 'regex' in input && input.regex === '*' ? {} : input,
  valueMatch,
);

export const httpMatchRequestSchema = z.strictObject({
  name: z.string().optional(),
  uri: uriMatch.optional(),
  scheme: valueMatch.optional(),
  method: valueMatch.optional(),
  authority: valueMatch.optional(),
  headers: mapOf(valueMatch, matchHeaderProblem).optional(),
  port: portNumber.optional(),
  sourceLabels: labels.optional(),
  gateways: cappedArray(gatewayName).optional(),
  queryParams: mapOf(valueMatch, (name) =>
    name === '' ? 'query parameter name must not be empty' : undefined,
  ).optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: mapOf(withoutHeaderMatch, matchHeaderProblem).optional(),
  sourceNamespace: namespaceName.optional(),
  statPrefix: z.string().optional(),
});
export type HttpMatchRequest = z.output<typeof httpMatchRequestSchema>;

/** The match fields TLS and TCP routes share. */
export const l4MatchFields = {
  destinationSubnets: cappedArray(
    z.string().refine(isIpOrCidr, 'must be an IP address or CIDR block'),
  ).optional(),
  port: portNumber.optional(),
  sourceLabels: labels.optional(),
  gateways: cappedArray(gatewayName).optional(),
  sourceNamespace: namespaceName.optional(),
};
