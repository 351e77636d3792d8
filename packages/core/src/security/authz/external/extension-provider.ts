import { z } from 'zod';
import { addProblem } from '../../../config/kinds/custom-issue.ts';
import { cappedArray, portNumber, positiveDurationMs } from '../../../config/schema-primitives.ts';

/**
 * Istio's MeshConfig `extensionProviders`, the part authorization uses: an external HTTP
 * authorizer (`envoyExtAuthzHttp`) that a CUSTOM AuthorizationPolicy names by `provider.name`.
 * Weft has no MeshConfig resource, so these come from `createMesh({ mesh: { extensionProviders } })`,
 * written as in Istio's mesh config (durations as text, statusOnError as a string).
 */

/** Istio's header list syntax here: exact, `prefix*` or `*suffix` (no presence match), no case. */
const headerPattern = z
  .string()
  .min(1, 'empty header name: remove it')
  .superRefine((pattern, context) => {
    const body = pattern.replace(/^\*|\*$/, '');
    if (pattern === '*' || body.includes('*') || body === '') {
      addProblem(
        context,
        `"${pattern}" must be a header name, "prefix*" or "*suffix" (Istio has no "*" alone here)`,
      );
    }
  })
  .transform((pattern) => pattern.toLowerCase());

const headerPatterns = cappedArray(headerPattern, 256).optional();

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Values that would split or end the header they are written into. */
const UNSAFE_HEADER_VALUE = /[\r\n\0]/;

export const envoyExtAuthzHttpSchema = z
  .strictObject({
    /** `[<namespace>/]<hostname>`: where the authorizer listens (DNS name or address). */
    service: z.string().min(1, 'service must name the authorizer, e.g. "ext-authz.foo.svc.cluster.local"'),
    port: portNumber,
    /** Istio's default is 600s; set it lower. */
    timeout: positiveDurationMs.optional(),
    pathPrefix: z
      .string()
      .refine(
        (prefix) => prefix.startsWith('/') && !/[\s?#]/.test(prefix),
        'pathPrefix must start with "/" and hold no spaces, "?" or "#"',
      )
      .optional(),
    failOpen: z.boolean().default(false),
    statusOnError: z
      .string()
      .regex(/^[1-5]\d\d$/, 'statusOnError must be an HTTP status code written as a string, e.g. "403"')
      .optional(),
    includeRequestHeadersInCheck: headerPatterns,
    includeAdditionalHeadersInCheck: z
      .record(
        z.string().regex(HEADER_NAME, 'not a valid header name'),
        z
          .string()
          .refine((value) => !UNSAFE_HEADER_VALUE.test(value), 'header values must not hold CR, LF or NUL'),
      )
      .optional(),
    headersToUpstreamOnAllow: headerPatterns,
    headersToDownstreamOnAllow: headerPatterns,
    headersToDownstreamOnDeny: headerPatterns,
    includeRequestBodyInCheck: z.unknown().optional(),
    includeHeadersInCheck: z.unknown().optional(),
  })
  .superRefine((provider, context) => {
    if (provider.includeRequestBodyInCheck !== undefined) {
      addProblem(
        context,
        'includeRequestBodyInCheck is not supported by Weft: the check request never carries the body',
        ['includeRequestBodyInCheck'],
      );
    }
    if (provider.includeHeadersInCheck !== undefined) {
      addProblem(context, 'includeHeadersInCheck is deprecated in Istio: use includeRequestHeadersInCheck', [
        'includeHeadersInCheck',
      ]);
    }
  })
  .transform(
    ({ includeRequestBodyInCheck: _body, includeHeadersInCheck: _headers, ...provider }) => provider,
  );

export const extensionProviderSchema = z
  .strictObject({
    name: z.string().min(1, 'name must not be empty: CUSTOM policies refer to the provider by it'),
    envoyExtAuthzHttp: envoyExtAuthzHttpSchema.optional(),
    envoyExtAuthzGrpc: z.unknown().optional(),
  })
  .superRefine((provider, context) => {
    if (provider.envoyExtAuthzGrpc !== undefined) {
      addProblem(
        context,
        'envoyExtAuthzGrpc is not supported by Weft: run the authorizer behind its HTTP API and use envoyExtAuthzHttp',
        ['envoyExtAuthzGrpc'],
      );
    } else if (provider.envoyExtAuthzHttp === undefined) {
      addProblem(context, 'the provider needs envoyExtAuthzHttp (the only extension provider Weft supports)');
    }
  });

/** An extension provider as written in mesh options (Istio's MeshConfig.ExtensionProvider). */
export type ExtensionProvider = z.input<typeof extensionProviderSchema>;
/** `envoyExtAuthzHttp`, validated and normalized (`timeout` in milliseconds). */
export type HttpAuthorizerSettings = z.output<typeof envoyExtAuthzHttpSchema>;

/** Istio's default check timeout. */
export const DEFAULT_EXT_AUTHZ_TIMEOUT_MS = 600_000;
export const DEFAULT_STATUS_ON_ERROR = 403;

export interface ParsedExtensionProviders {
  /** Valid HTTP authorizers by provider name. */
  readonly authorizers: ReadonlyMap<string, HttpAuthorizerSettings>;
  /** Providers refused, with why; CUSTOM policies naming them fail closed. */
  readonly problems: readonly string[];
}

/** Validates mesh options' providers; an invalid or duplicate name is refused, never guessed. */
export function parseExtensionProviders(providers: readonly unknown[]): ParsedExtensionProviders {
  const authorizers = new Map<string, HttpAuthorizerSettings>();
  const refused = new Set<string>();
  const problems: string[] = [];
  providers.forEach((provider, index) => {
    const parsed = extensionProviderSchema.safeParse(provider);
    const name =
      typeof provider === 'object' && provider !== null ? Reflect.get(provider, 'name') : undefined;
    const label = typeof name === 'string' ? `"${name}"` : `#${index}`;
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(provider)'}: ${issue.message}`,
      );
      problems.push(`extension provider ${label} is invalid: ${issues.join('; ')}`);
      if (typeof name === 'string') refused.add(name);
      return;
    }
    const { envoyExtAuthzHttp } = parsed.data;
    if (authorizers.has(parsed.data.name) || refused.has(parsed.data.name)) {
      problems.push(`extension provider ${label} is defined more than once`);
      refused.add(parsed.data.name);
      return;
    }
    if (envoyExtAuthzHttp !== undefined) authorizers.set(parsed.data.name, envoyExtAuthzHttp);
  });
  for (const name of refused) authorizers.delete(name);
  return { authorizers, problems };
}
