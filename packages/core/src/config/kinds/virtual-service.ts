import { isIP } from 'node:net';
import { z } from 'zod';
import { hostMatches, hostsOverlap, type NameContext, toFqdn } from '../host.ts';
import type { KindDefinition } from '../kind-definition.ts';
import {
  cappedArray,
  exportTo,
  hostName,
  int32,
  labels,
  percentage,
  portNumber,
  positiveDurationMs,
  re2Pattern,
  stringMatch,
  uint32,
} from '../schema-primitives.ts';

/**
 * VirtualService (networking.istio.io): ordered HTTP, TLS and TCP routing rules for a set of hosts.
 *
 * Normalized output: every google.protobuf.Duration field holds a number of MILLISECONDS under
 * Istio's own field name (`timeout: 1.5s` → `timeout: 1500`); StringMatch fields are tagged unions;
 * wrapper types (UInt32Value, BoolValue) are plain values; deprecated spellings are mapped onto their
 * replacement, so consumers only ever read the replacement.
 *
 * Defaults: only proto3 zero values whose meaning a consumer would otherwise have to re-derive are
 * filled in: `retries.attempts` (0 when `retries` is present: Istio then disables retries),
 * `fault.delay/abort.percentage` (0: "if left unspecified, no request will be delayed") and
 * `redirect.redirectCode` (301). Defaults that MeshConfig can change (the mesh retry policy,
 * `gateways` meaning `mesh`, 100% mirroring) stay with the consumer.
 *
 * The host and map helpers exported here are shared by the other networking kinds.
 */

type Context = z.core.$RefinementCtx;

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/i;
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)$/i;
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~a-z0-9]+$/i;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const JWT_CLAIM_PREFIX = '@request.auth.claims';
/** Istio refuses direct responses over 1 MiB: they are pushed to every proxy with the route. */
const MAX_DIRECT_RESPONSE_BYTES = 1024 * 1024;

/** A DNS-1123 label as Istio checks it (namespaces, subset and port names): letters, digits, `-`. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

/** `a.b.c.d`, `a.b.c.d/xx` and the IPv6 forms, as Istio's ValidateIPSubnet. */
export function isIpOrCidr(value: string): boolean {
  const [address = '', bits, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Istio's ValidateDNS1123Labels over `labels` (a suffix of `domain`, which names the error). */
function dnsLabelsProblem(domain: string, labelsText: string): string | undefined {
  const parts = labelsText.split('.');
  const topLevel = parts.at(-1) ?? '';
  if (/^\d+$/.test(topLevel)) {
    return `host "${domain}" is invalid: its top-level label "${topLevel}" is all digits; use a DNS name or an IP address`;
  }
  for (const [index, label] of parts.entries()) {
    // A final empty label is a trailing dot (`istio.io.`), which is unambiguous.
    if (index === parts.length - 1 && label === '') return undefined;
    if (!isDnsLabel(label)) {
      return `host "${domain}" is invalid: "${label}" is not a DNS-1123 label (letters, digits and "-", at most 63)`;
    }
  }
  return undefined;
}

function lengthProblem(domain: string): string | undefined {
  if (domain.length === 0) return 'host must not be empty';
  if (domain.length > 255) return `host "${domain.slice(0, 32)}…" is longer than 255 characters`;
  return undefined;
}

/** Istio's ValidateWildcardDomain: a DNS name whose first label may be `*`, `*foo` or `*-foo`. */
export function wildcardDomainProblem(domain: string): string | undefined {
  const tooLong = lengthProblem(domain);
  if (tooLong !== undefined) return tooLong;
  const dot = domain.indexOf('.');
  const first = dot === -1 ? domain : domain.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) {
    return `host "${domain}" is invalid: "${first}" is neither a DNS-1123 label nor a wildcard such as "*" or "*.example.com"`;
  }
  return dot === -1 ? undefined : dnsLabelsProblem(domain, domain.slice(dot + 1));
}

/** Istio's ValidateFQDN: DNS-1123 labels only, no wildcard. */
export function fqdnProblem(name: string): string | undefined {
  return lengthProblem(name) ?? dnsLabelsProblem(name, name);
}

function addProblem(context: Context, problem: string | undefined, path: PropertyKey[] = []): void {
  if (problem !== undefined) context.addIssue({ code: 'custom', path, message: problem });
}

/** A host as VirtualService and DestinationRule use it: a (wildcard) DNS name, short or qualified. */
export const wildcardHost = hostName.superRefine((host, context) =>
  addProblem(context, wildcardDomainProblem(host)),
);

/**
 * A `map<string, V>`: keys are checked here rather than by a zod key schema, so that a bad key
 * gets its own message (a key schema reports only "Invalid key in record").
 */
export function mapOf<V extends z.ZodType>(value: V, keyProblem: (key: string) => string | undefined) {
  return z.record(z.string(), value).superRefine((map, context) => {
    for (const key of Object.keys(map)) addProblem(context, keyProblem(key), [key]);
  });
}

/** Istio's `oneof`: at most one of `keys` may be set; the issue lands on the second one set. */
function checkOneOf<T extends object>(value: T, keys: readonly (keyof T & string)[], context: Context): void {
  const set = keys.filter((key) => value[key] !== undefined);
  if (set.length > 1) {
    context.addIssue({
      code: 'custom',
      path: [set[1] ?? ''],
      message: `${set.join(' and ')} are mutually exclusive; keep only one`,
    });
  }
}

const subsetName = z
  .string()
  .min(1, 'subset name must not be empty')
  .refine(isDnsLabel, 'subset name must be a DNS-1123 label (letters, digits and "-"), e.g. "v1"');
const namespaceName = z
  .string()
  .refine(isDnsLabel, 'namespace must be a DNS-1123 label (letters, digits and "-")');

export const destinationSchema = z.strictObject({
  host: wildcardHost.refine(
    (host) => host !== '*',
    'destination host must name a service; "*" is not allowed',
  ),
  subset: subsetName.optional(),
  port: z.strictObject({ number: portNumber }).optional(),
});
export type Destination = z.output<typeof destinationSchema>;

/** `gateways` entries: `<namespace>/<name>`, or a bare name (`mesh`, or a gateway in this namespace). */
const gatewayName = z.string().superRefine((name, context) => {
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

// --- headers ------------------------------------------------------------------------------------

function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

const headerValue = z
  .string()
  .refine((value) => !hasControlCharacter(value), 'header value must not contain control characters');

/** Request `set`/`add` may target the authority (`host`/`:authority`), never other pseudo-headers. */
function settableRequestHeaderProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (name.startsWith(':') && name.toLowerCase() !== ':authority') {
    return `header "${name}" cannot be set: only ":authority" may be set among ":" pseudo-headers`;
  }
  return undefined;
}

/** Removals and response headers may touch neither Host nor pseudo-headers (Istio's rule). */
function modifiableHeaderProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (name.startsWith(':') || name.toLowerCase() === 'host') {
    return `header "${name}" cannot be modified here; use rewrite.authority to change the host`;
  }
  return undefined;
}

function headerOperations(nameProblem: (name: string) => string | undefined) {
  return z.strictObject({
    set: mapOf(headerValue, nameProblem).optional(),
    add: mapOf(headerValue, nameProblem).optional(),
    remove: cappedArray(
      z.string().superRefine((name, context) => addProblem(context, modifiableHeaderProblem(name))),
    ).optional(),
  });
}

const headersSchema = z.strictObject({
  request: headerOperations(settableRequestHeaderProblem).optional(),
  response: headerOperations(modifiableHeaderProblem).optional(),
});
type Headers = z.output<typeof headersSchema>;

// --- matching -----------------------------------------------------------------------------------

function isJwtClaimHeader(name: string): boolean {
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

const httpMatchRequest = z.strictObject({
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
type HttpMatchRequest = z.output<typeof httpMatchRequest>;

// --- actions ------------------------------------------------------------------------------------

const weight = int32.min(0, 'weight must be ≥ 0 (0 sends no traffic to this destination)');

const httpRouteDestination = z.strictObject({
  destination: destinationSchema,
  weight: weight.optional(),
  headers: headersSchema.optional(),
});

const routeDestination = z.strictObject({ destination: destinationSchema, weight: weight.optional() });

/** Istio: with several destinations, weights of all 0 would send traffic nowhere. */
function checkTotalWeight(
  destinations: readonly { readonly weight?: number }[] | undefined,
  context: Context,
): void {
  if (destinations === undefined || destinations.length < 2) return;
  if (destinations.every((destination) => (destination.weight ?? 0) === 0)) {
    addProblem(context, 'with several destinations at least one weight must be > 0 (all are 0)', ['route']);
  }
}

const httpRedirect = z
  .strictObject({
    uri: z.string().optional(),
    authority: z.string().optional(),
    port: portNumber.optional(),
    derivePort: z.enum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
    scheme: z.enum(['http', 'https'], 'redirect scheme must be "http" or "https"').optional(),
    // proto3: 0 means "unset", which Istio answers with 301.
    redirectCode: uint32
      .refine(
        (code) => code === 0 || (code >= 300 && code <= 399),
        'redirectCode must be a 3xx status, e.g. 301 or 308',
      )
      .optional(),
    prefixRewrite: z.string().optional(),
  })
  .superRefine((redirect, context) => {
    checkOneOf(redirect, ['port', 'derivePort'], context);
    if (redirect.uri && redirect.prefixRewrite) {
      addProblem(context, 'uri and prefixRewrite are mutually exclusive; keep only one', ['prefixRewrite']);
    }
    const { uri, prefixRewrite, authority, port, derivePort, scheme } = redirect;
    if (!uri && !prefixRewrite && !authority && !scheme && port === undefined && derivePort === undefined) {
      addProblem(
        context,
        'a redirect must change something: set uri, prefixRewrite, authority, scheme, port or derivePort',
      );
    }
  })
  .transform((redirect) => ({ ...redirect, redirectCode: redirect.redirectCode || 301 }));

const httpBody = z
  .strictObject({
    string: z.string().optional(),
    bytes: z
      .string()
      .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'bytes must be base64, e.g. "dW5rbm93biBlcnJvcg=="')
      .optional(),
  })
  .superRefine((body, context) => {
    checkOneOf(body, ['string', 'bytes'], context);
    const size =
      body.string !== undefined
        ? Buffer.byteLength(body.string)
        : Math.floor(((body.bytes ?? '').length * 3) / 4);
    if (size > MAX_DIRECT_RESPONSE_BYTES) {
      addProblem(context, 'a direct response body must be under 1 MiB; serve large bodies from a backend');
    }
  });

const httpDirectResponse = z.strictObject({
  status: z.number().int().min(200, 'status must be 200–599').max(599, 'status must be 200–599'),
  body: httpBody.optional(),
});

const httpRewrite = z
  .strictObject({
    uri: z.string().optional(),
    authority: z.string().optional(),
    uriRegexRewrite: z
      .strictObject({
        match: re2Pattern.refine((pattern) => pattern !== '', 'uriRegexRewrite needs a match regex'),
        rewrite: z.string().min(1, 'uriRegexRewrite needs a rewrite string'),
      })
      .optional(),
  })
  .superRefine((rewrite, context) => {
    if (rewrite.uri && rewrite.uriRegexRewrite) {
      addProblem(context, 'uri and uriRegexRewrite are mutually exclusive; keep only one', [
        'uriRegexRewrite',
      ]);
    }
    if (!rewrite.uri && !rewrite.uriRegexRewrite && !rewrite.authority) {
      addProblem(context, 'a rewrite must set uri, uriRegexRewrite or authority');
    }
  });

/** Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on` policies that Istio accepts in retryOn. */
const RETRY_ON_POLICIES = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

function isRetryOnPolicy(policy: string): boolean {
  if (RETRY_ON_POLICIES.has(policy)) return true;
  return /^\d{3}$/.test(policy) && Number(policy) >= 100 && Number(policy) <= 599;
}

const httpRetry = z
  .strictObject({
    attempts: int32.min(0, 'attempts must be ≥ 0 (0 disables retries)').optional(),
    perTryTimeout: positiveDurationMs.optional(),
    retryOn: z
      .string()
      .superRefine((retryOn, context) => {
        for (const policy of retryOn.split(',')) {
          if (!isRetryOnPolicy(policy)) {
            addProblem(
              context,
              `"${policy}" is not a retryOn policy; use e.g. "5xx,reset,connect-failure" or a status code`,
            );
          }
        }
      })
      .optional(),
    retryRemoteLocalities: z.boolean().optional(),
    retryIgnorePreviousHosts: z.boolean().optional(),
    backoff: positiveDurationMs.optional(),
  })
  .superRefine((retry, context) => {
    const isDisabled = (retry.attempts ?? 0) === 0;
    if (
      isDisabled &&
      (retry.perTryTimeout !== undefined || retry.retryOn || retry.retryRemoteLocalities !== undefined)
    ) {
      addProblem(
        context,
        'attempts is 0, which disables retries, yet other retry settings are set; set attempts ≥ 1',
        ['attempts'],
      );
    }
  })
  // proto3: an absent `attempts` inside `retries` is 0, not the mesh default of 2.
  .transform((retry) => ({ ...retry, attempts: retry.attempts ?? 0 }));

const CORS_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  '*',
] as const;

const corsHeaderName = z
  .string()
  .refine(
    (name) => name === '*' || HEADER_TOKEN.test(name),
    'not a valid header name (RFC 7230 token characters, or "*")',
  );

const corsPolicy = z
  .strictObject({
    allowOrigin: cappedArray(z.string()).optional(),
    allowOrigins: cappedArray(
      stringMatch.superRefine((match, context) => {
        if (match.type === 'present' || match.value === '') {
          addProblem(context, 'an allowed origin needs a non-empty exact, prefix or regex');
        }
      }),
    ).optional(),
    allowMethods: cappedArray(
      z.enum(CORS_METHODS, `allowMethods entries must be one of ${CORS_METHODS.join(', ')}`),
    ).optional(),
    allowHeaders: cappedArray(corsHeaderName).optional(),
    exposeHeaders: cappedArray(corsHeaderName).optional(),
    maxAge: positiveDurationMs
      .refine((ms) => ms % 1000 === 0, 'maxAge is sent in whole seconds; use e.g. "24h" or "30s"')
      .optional(),
    allowCredentials: z.boolean().optional(),
    unmatchedPreflights: z.enum(['UNSPECIFIED', 'FORWARD', 'IGNORE']).optional(),
  })
  // Istio reads the deprecated `allowOrigin` (exact strings) only when `allowOrigins` is absent.
  .transform(({ allowOrigin, ...cors }) => {
    if (cors.allowOrigins !== undefined || allowOrigin === undefined) return cors;
    return { ...cors, allowOrigins: allowOrigin.map((value) => ({ type: 'exact' as const, value })) };
  });

/** Istio's validatePercentage: 0, or 0.0001–100 (the resolution Envoy can express). */
const faultPercentage = percentage.superRefine(({ value }, context) => {
  if (value > 0 && value < 0.0001) {
    addProblem(context, `percentage ${value} is too small; use 0 or at least 0.0001`, ['value']);
  }
});

const faultDelay = z
  .strictObject({
    percent: int32.min(0, 'percent must be 0–100').max(100, 'percent must be 0–100').optional(),
    fixedDelay: positiveDurationMs.optional(),
    exponentialDelay: positiveDurationMs.optional(),
    percentage: faultPercentage.optional(),
  })
  .superRefine((delay, context) => {
    checkOneOf(delay, ['fixedDelay', 'exponentialDelay'], context);
    if (delay.exponentialDelay !== undefined) {
      addProblem(context, 'exponentialDelay is not supported (Istio rejects it too); use fixedDelay', [
        'exponentialDelay',
      ]);
    }
  })
  // `percent` (deprecated integer) counts only when `percentage` is absent; neither means 0%.
  .transform(({ percent, exponentialDelay, ...delay }) => ({
    ...delay,
    percentage: delay.percentage ?? { value: percent ?? 0 },
  }));

const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

const faultAbort = z
  .strictObject({
    httpStatus: z
      .number()
      .int()
      .min(200, 'httpStatus must be 200–599')
      .max(599, 'httpStatus must be 200–599')
      .optional(),
    grpcStatus: z
      .enum(GRPC_STATUS_NAMES, 'grpcStatus must be a gRPC status name such as "UNAVAILABLE" (not 14)')
      .optional(),
    http2Error: z.string().optional(),
    percentage: faultPercentage.optional(),
  })
  .superRefine((abort, context) => {
    checkOneOf(abort, ['httpStatus', 'grpcStatus', 'http2Error'], context);
    if (abort.http2Error !== undefined) {
      addProblem(
        context,
        'http2Error aborts are not supported (Istio rejects them too); use httpStatus or grpcStatus',
        ['http2Error'],
      );
    }
  })
  .transform(({ http2Error, ...abort }) => ({ ...abort, percentage: abort.percentage ?? { value: 0 } }));

const httpFaultInjection = z
  .strictObject({ delay: faultDelay.optional(), abort: faultAbort.optional() })
  .superRefine((fault, context) => {
    if (fault.delay === undefined && fault.abort === undefined)
      addProblem(context, 'a fault needs a delay, an abort or both');
  });

const httpMirrorPolicy = z.strictObject({
  destination: destinationSchema,
  percentage: percentage.optional(),
});

const mirrorPercent = uint32.max(100, 'mirrorPercent must be 0–100');

// --- routes -------------------------------------------------------------------------------------

const httpRouteFields = z.strictObject({
  name: z.string().optional(),
  match: cappedArray(httpMatchRequest).optional(),
  route: cappedArray(httpRouteDestination).optional(),
  redirect: httpRedirect.optional(),
  directResponse: httpDirectResponse.optional(),
  delegate: z.strictObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
  rewrite: httpRewrite.optional(),
  timeout: positiveDurationMs.optional(),
  retries: httpRetry.optional(),
  fault: httpFaultInjection.optional(),
  mirror: destinationSchema.optional(),
  mirrors: cappedArray(httpMirrorPolicy).optional(),
  mirrorPercent: mirrorPercent.optional(),
  // The CRD's `+kubebuilder:altName`: the same deprecated field in its proto spelling.
  mirror_percent: mirrorPercent.optional(),
  mirrorPercentage: percentage.optional(),
  corsPolicy: corsPolicy.optional(),
  headers: headersSchema.optional(),
});
type HttpRouteFields = z.output<typeof httpRouteFields>;

/** Istio's validateHTTPRouteConflict: what a route does (forward, redirect, respond, delegate). */
function checkRouteAction(route: HttpRouteFields, context: Context): void {
  const { delegate, redirect, directResponse, fault, rewrite } = route;
  const hasRoute = route.route !== undefined && route.route.length > 0;
  if (delegate !== undefined) {
    if (redirect !== undefined)
      addProblem(context, 'a route that delegates cannot also redirect', ['redirect']);
    if (route.route !== undefined)
      addProblem(context, 'a route that delegates cannot also forward', ['route']);
    return;
  }
  const answer =
    redirect !== undefined ? 'redirect' : directResponse !== undefined ? 'directResponse' : undefined;
  if (answer === undefined) {
    if (!hasRoute)
      addProblem(context, 'an HTTP route needs one of route, redirect, directResponse or delegate', [
        'route',
      ]);
    return;
  }
  const why = `${answer} answers the request itself`;
  if (hasRoute) addProblem(context, `route cannot be combined with ${answer}: ${why}`, ['route']);
  if (fault !== undefined) addProblem(context, `fault cannot be combined with ${answer}: ${why}`, ['fault']);
  if (rewrite !== undefined)
    addProblem(context, `rewrite cannot be combined with ${answer}: ${why}`, ['rewrite']);
  if (redirect !== undefined && directResponse !== undefined) {
    addProblem(context, 'redirect and directResponse are mutually exclusive; keep only one', [
      'directResponse',
    ]);
  }
}

function isAuthorityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'host' || lower === ':authority';
}

/** Istio's validateAuthorityRewrite: the authority may be rewritten in one place only. */
function checkSingleAuthority(
  rewrite: { readonly authority?: string } | undefined,
  headers: Headers | undefined,
  context: Context,
): void {
  const request = headers?.request;
  const setters = [
    ...(rewrite?.authority ? ['rewrite.authority'] : []),
    ...Object.keys(request?.set ?? {})
      .filter(isAuthorityHeader)
      .map((name) => `headers.request.set.${name}`),
    ...Object.keys(request?.add ?? {})
      .filter(isAuthorityHeader)
      .map((name) => `headers.request.add.${name}`),
  ];
  if (setters.length > 1) {
    addProblem(context, `the authority is rewritten more than once (${setters.join(', ')}); keep one`, [
      'headers',
    ]);
  }
}

function checkHttpRoute(route: HttpRouteFields, context: Context): void {
  checkRouteAction(route, context);
  checkTotalWeight(route.route, context);
  checkSingleAuthority(route.rewrite, route.headers, context);
  if (route.mirror !== undefined && route.mirrors !== undefined && route.mirrors.length > 0) {
    addProblem(context, 'mirror and mirrors are mutually exclusive; move mirror into mirrors', ['mirrors']);
  }
  if (route.mirrorPercent !== undefined && route.mirror_percent !== undefined) {
    addProblem(
      context,
      'mirrorPercent and mirror_percent are one deprecated field; use mirrorPercentage only',
      ['mirror_percent'],
    );
  }
  const isPrefixOnly = (match: HttpMatchRequest) => match.uri === undefined || match.uri.type === 'prefix';
  if (route.redirect?.prefixRewrite && !(route.match ?? []).every(isPrefixOnly)) {
    addProblem(context, 'redirect.prefixRewrite needs every uri match to be a prefix match', [
      'redirect',
      'prefixRewrite',
    ]);
  }
}

const httpRoute = httpRouteFields
  .superRefine(checkHttpRoute)
  // Istio reads the deprecated integer `mirrorPercent` only when `mirrorPercentage` is absent.
  .transform(({ mirrorPercent, mirror_percent: snakeCaseMirrorPercent, ...route }) => {
    const legacy = mirrorPercent ?? snakeCaseMirrorPercent;
    if (route.mirrorPercentage !== undefined || legacy === undefined) return route;
    return { ...route, mirrorPercentage: { value: legacy } };
  });

const l4MatchFields = {
  destinationSubnets: cappedArray(
    z.string().refine(isIpOrCidr, 'must be an IP address or CIDR block'),
  ).optional(),
  port: portNumber.optional(),
  sourceLabels: labels.optional(),
  gateways: cappedArray(gatewayName).optional(),
  sourceNamespace: namespaceName.optional(),
};

const sniHost = hostName.superRefine((host, context) => {
  if (!isIpAddress(host)) addProblem(context, wildcardDomainProblem(host));
});

const tlsRoute = z
  .strictObject({
    match: cappedArray(
      z.strictObject({
        sniHosts: cappedArray(sniHost).min(1, 'a TLS match needs at least one sniHosts entry'),
        ...l4MatchFields,
      }),
    ).min(1, 'a TLS route needs at least one match'),
    route: cappedArray(routeDestination).optional(),
  })
  .superRefine((route, context) => {
    if (route.route === undefined || route.route.length === 0)
      addProblem(context, 'a TLS route needs a route', ['route']);
    checkTotalWeight(route.route, context);
  })
  .transform((route) => ({ ...route, route: route.route ?? [] }));

const tcpRoute = z
  .strictObject({
    match: cappedArray(z.strictObject({ ...l4MatchFields, sourceSubnet: z.string().optional() })).optional(),
    route: cappedArray(routeDestination).optional(),
  })
  .superRefine((route, context) => {
    if (route.route === undefined || route.route.length === 0)
      addProblem(context, 'a TCP route needs a route', ['route']);
    checkTotalWeight(route.route, context);
  })
  .transform((route) => ({ ...route, route: route.route ?? [] }));

const virtualServiceHost = hostName.superRefine((host, context) => {
  if (!isIpAddress(host)) addProblem(context, wildcardDomainProblem(host));
});

const virtualServiceFields = z.strictObject({
  hosts: cappedArray(virtualServiceHost).optional(),
  gateways: cappedArray(gatewayName).optional(),
  http: cappedArray(httpRoute).optional(),
  tls: cappedArray(tlsRoute).optional(),
  tcp: cappedArray(tcpRoute).optional(),
  exportTo,
});
type VirtualServiceFields = z.output<typeof virtualServiceFields>;

/**
 * Istio accepts a VirtualService without hosts as a delegate (the target of `http[].delegate`).
 * Weft does not implement delegation, so such a resource could never apply: it is refused.
 */
function checkHosts(spec: VirtualServiceFields, isGatewayOnly: boolean, context: Context): void {
  const hosts = spec.hosts ?? [];
  if (hosts.length === 0) {
    addProblem(
      context,
      'hosts must list at least one host (delegate VirtualServices without hosts are not supported)',
      ['hosts'],
    );
  }
  for (const [index, host] of hosts.entries()) {
    if (host === '*' && !isGatewayOnly) {
      addProblem(context, '"*" is allowed only when the VirtualService is bound to gateways (not "mesh")', [
        'hosts',
        index,
      ]);
    }
    const earlier = hosts.slice(0, index).find((other) => hostsOverlap(other, host));
    if (earlier !== undefined) {
      addProblem(context, `hosts "${earlier}" and "${host}" overlap; list each host once`, ['hosts', index]);
    }
  }
}

/** Istio routes on JWT claims (`@request.auth.claims.*` headers) only at gateways. */
function checkJwtClaimRouting(spec: VirtualServiceFields, context: Context): void {
  for (const [routeIndex, route] of (spec.http ?? []).entries()) {
    for (const [matchIndex, match] of (route.match ?? []).entries()) {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        for (const name of Object.keys(match[field] ?? {}).filter(isJwtClaimHeader)) {
          addProblem(
            context,
            `routing on JWT claim "${name}" works only in a VirtualService bound to gateways`,
            ['http', routeIndex, 'match', matchIndex, field, name],
          );
        }
      }
    }
  }
}

/** Istio: every SNI host must fall within one of the VirtualService's hosts. */
function checkSniHosts(spec: VirtualServiceFields, context: Context): void {
  const hosts = spec.hosts ?? [];
  for (const [routeIndex, route] of (spec.tls ?? []).entries()) {
    for (const [matchIndex, match] of route.match.entries()) {
      for (const [index, sni] of match.sniHosts.entries()) {
        if (isIpAddress(sni) || hosts.some((host) => hostMatches(host, sni))) continue;
        addProblem(context, `SNI host "${sni}" is not within the VirtualService hosts; add it to hosts`, [
          'tls',
          routeIndex,
          'match',
          matchIndex,
          'sniHosts',
          index,
        ]);
      }
    }
  }
}

export const virtualServiceSpecSchema = virtualServiceFields
  .superRefine((spec, context) => {
    const gateways = spec.gateways ?? [];
    const isGatewayOnly = gateways.length > 0 && !gateways.includes('mesh');
    checkHosts(spec, isGatewayOnly, context);
    if (!isGatewayOnly) checkJwtClaimRouting(spec, context);
    checkSniHosts(spec, context);
    if ((spec.http ?? []).length + (spec.tls ?? []).length + (spec.tcp ?? []).length === 0) {
      addProblem(context, 'a VirtualService needs at least one http, tls or tcp route', ['http']);
    }
  })
  .transform((spec) => ({ ...spec, hosts: spec.hosts ?? [] }));

export type VirtualServiceSpec = z.output<typeof virtualServiceSpecSchema>;

function resolveDestination<T extends { readonly destination: Destination }>(
  item: T,
  context: NameContext,
): T {
  return { ...item, destination: { ...item.destination, host: toFqdn(item.destination.host, context) } };
}

/** Short hosts become FQDNs relative to the VirtualService's namespace, as Istio reads them. */
export function resolveVirtualServiceNames(
  spec: VirtualServiceSpec,
  context: NameContext,
): VirtualServiceSpec {
  const resolved: VirtualServiceSpec = { ...spec, hosts: spec.hosts.map((host) => toFqdn(host, context)) };
  if (spec.http) {
    resolved.http = spec.http.map((route) => {
      const next = { ...route };
      if (route.route) next.route = route.route.map((item) => resolveDestination(item, context));
      if (route.mirror) next.mirror = { ...route.mirror, host: toFqdn(route.mirror.host, context) };
      if (route.mirrors) next.mirrors = route.mirrors.map((item) => resolveDestination(item, context));
      return next;
    });
  }
  if (spec.tls) {
    resolved.tls = spec.tls.map((route) => ({
      ...route,
      route: route.route.map((item) => resolveDestination(item, context)),
    }));
  }
  if (spec.tcp) {
    resolved.tcp = spec.tcp.map((route) => ({
      ...route,
      route: route.route.map((item) => resolveDestination(item, context)),
    }));
  }
  return resolved;
}

export const virtualServiceKind: KindDefinition<VirtualServiceSpec> = {
  kind: 'VirtualService',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  isSecurity: false,
  specSchema: virtualServiceSpecSchema,
  unsupportedFields: [
    { path: 'tcp', reason: 'opaque TCP routing is L4; Weft routes HTTP and gRPC requests in-process' },
    {
      path: 'tls',
      reason: 'SNI routing of unterminated TLS is L4; Weft routes HTTP and gRPC requests in-process',
    },
    { path: 'http[].delegate', reason: 'route delegation across VirtualServices is not implemented yet' },
    { path: 'http[].corsPolicy', reason: 'CORS is left to the application framework for now' },
    { path: 'http[].match[].statPrefix', reason: 'an Envoy stats prefix; Weft labels metrics by route name' },
  ],
  deprecatedFields: [
    {
      path: 'http[].mirrorPercent',
      replacement: 'http[].mirrorPercentage',
      reason: 'integer percentage deprecated by Istio; mapped to mirrorPercentage.value',
    },
    {
      path: 'http[].mirror_percent',
      replacement: 'http[].mirrorPercentage',
      reason: 'snake_case spelling of the deprecated mirrorPercent; mapped to mirrorPercentage.value',
    },
    {
      path: 'http[].fault.delay.percent',
      replacement: 'http[].fault.delay.percentage',
      reason: 'integer percentage deprecated by Istio; mapped to percentage.value',
    },
    {
      path: 'http[].corsPolicy.allowOrigin',
      replacement: 'http[].corsPolicy.allowOrigins',
      reason: 'exact-string origins deprecated by Istio; mapped to exact matches',
    },
  ],
  resolveNames: resolveVirtualServiceNames,
};
