import { z } from 'zod';
import {
  cappedArray,
  percentage,
  portNumber,
  positiveDurationMs,
  re2Pattern,
  uint32,
} from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';
import { checkOneOf } from './one-of.ts';
import { corsPolicySchema } from './virtual-service-cors.ts';
import {
  checkTotalWeight,
  destinationSchema,
  httpRouteDestinationSchema,
} from './virtual-service-destination.ts';
import { httpFaultInjectionSchema } from './virtual-service-fault.ts';
import { type Headers, headersSchema } from './virtual-service-headers.ts';
import { type HttpMatchRequest, httpMatchRequestSchema } from './virtual-service-match.ts';
import { httpRetrySchema } from './virtual-service-retry.ts';

/**
 * VirtualService `http[]`: one HTTPRoute with its matches and what it does (forward, redirect,
 * answer directly or delegate), plus rewrite, timeout, retries, fault injection, mirroring, CORS and
 * header changes. The deprecated integer `mirrorPercent` (either spelling) becomes `mirrorPercentage`.
 */

/** Istio refuses direct responses over 1 MiB: they are pushed to every proxy with the route. */
const MAX_DIRECT_RESPONSE_BYTES = 1024 * 1024;

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

const httpMirrorPolicy = z.strictObject({
  destination: destinationSchema,
  percentage: percentage.optional(),
});

const mirrorPercent = uint32.max(100, 'mirrorPercent must be 0–100');

const httpRouteFields = z.strictObject({
  name: z.string().optional(),
  match: cappedArray(httpMatchRequestSchema).optional(),
  route: cappedArray(httpRouteDestinationSchema).optional(),
  redirect: httpRedirect.optional(),
  directResponse: httpDirectResponse.optional(),
  delegate: z.strictObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
  rewrite: httpRewrite.optional(),
  timeout: positiveDurationMs.optional(),
  retries: httpRetrySchema.optional(),
  fault: httpFaultInjectionSchema.optional(),
  mirror: destinationSchema.optional(),
  mirrors: cappedArray(httpMirrorPolicy).optional(),
  mirrorPercent: mirrorPercent.optional(),
  // The CRD's `+kubebuilder:altName`: the same deprecated field in its proto spelling.
  mirror_percent: mirrorPercent.optional(),
  mirrorPercentage: percentage.optional(),
  corsPolicy: corsPolicySchema.optional(),
  headers: headersSchema.optional(),
});
type HttpRouteFields = z.output<typeof httpRouteFields>;

/** Istio's validateHTTPRouteConflict: what a route does (forward, redirect, respond, delegate). */
function checkRouteAction(route: HttpRouteFields, context: RefinementContext): void {
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
  context: RefinementContext,
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

function checkHttpRoute(route: HttpRouteFields, context: RefinementContext): void {
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

export const httpRouteSchema = httpRouteFields
  .superRefine(checkHttpRoute)
  // Istio reads the deprecated integer `mirrorPercent` only when `mirrorPercentage` is absent.
  .transform(({ mirrorPercent, mirror_percent: snakeCaseMirrorPercent, ...route }) => {
    const legacy = mirrorPercent ?? snakeCaseMirrorPercent;
    if (route.mirrorPercentage !== undefined || legacy === undefined) return route;
    return { ...route, mirrorPercentage: { value: legacy } };
  });
