import type { AuthzRequest } from '../authz-request.ts';
import { compileValuePatterns, type ValueTest } from '../value-patterns.ts';
import { DEFAULT_STATUS_ON_ERROR, type HttpAuthorizerSettings } from './extension-provider.ts';
import type { ExternalCheckOutcome, ExternalCheckRequest } from './external-authorizer.ts';

/** Never copied from the authorizer's answer: they describe its connection, not the decision. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'host',
  'upgrade',
]);
/** Istio adds these to a `headersToDownstreamOnDeny` list, so redirects and challenges work. */
const ALWAYS_ON_DENY = ['www-authenticate', 'location'];

/** A provider's settings with its header lists compiled, built once per snapshot. */
export interface CompiledHttpAuthorizer {
  readonly name: string;
  readonly settings: HttpAuthorizerSettings;
  buildRequest(request: AuthzRequest): ExternalCheckRequest;
  interpret(outcome: ExternalCheckOutcome): ExternalVerdict;
}

export type ExternalVerdict =
  | {
      readonly kind: 'allowed';
      readonly upstreamHeaders: readonly (readonly [string, string])[];
      readonly downstreamHeaders: readonly (readonly [string, string])[];
      readonly hasFailedOpen: boolean;
    }
  | {
      readonly kind: 'denied' | 'error';
      readonly status: number;
      readonly body: string;
      readonly headers: readonly (readonly [string, string])[];
    };

const NONE: readonly (readonly [string, string])[] = Object.freeze([]);

export function compileHttpAuthorizer(
  name: string,
  settings: HttpAuthorizerSettings,
): CompiledHttpAuthorizer {
  const patterns = (list: readonly string[] | undefined): ValueTest | undefined =>
    list === undefined || list.length === 0 ? undefined : compileValuePatterns(list);
  const include = patterns(settings.includeRequestHeadersInCheck);
  const exactIncludes = (settings.includeRequestHeadersInCheck ?? []).filter((name) => !name.includes('*'));
  const additional = Object.entries(settings.includeAdditionalHeadersInCheck ?? {}).map(
    ([header, value]) => [header.toLowerCase(), value] as const,
  );
  const toUpstream = patterns(settings.headersToUpstreamOnAllow);
  const toDownstreamOnAllow = patterns(settings.headersToDownstreamOnAllow);
  const onDeny = patterns(settings.headersToDownstreamOnDeny);
  const keepOnDeny =
    onDeny === undefined
      ? (header: string) => !CONNECTION_HEADERS.has(header)
      : (header: string) =>
          !CONNECTION_HEADERS.has(header) && (onDeny(header) || ALWAYS_ON_DENY.includes(header));
  const pick = (headers: readonly (readonly [string, string])[], keep: ValueTest | undefined) =>
    keep === undefined ? NONE : headers.filter(([header]) => !CONNECTION_HEADERS.has(header) && keep(header));
  const statusOnError =
    settings.statusOnError === undefined ? DEFAULT_STATUS_ON_ERROR : Number(settings.statusOnError);

  return {
    name,
    settings,
    buildRequest(request) {
      const headers = new Map<string, string>();
      if (include !== undefined) {
        // Prefix and suffix patterns need the names the request has; exact ones are read directly.
        const names = request.headerNames?.() ?? exactIncludes;
        for (const header of names) {
          const lower = header.toLowerCase();
          if (CONNECTION_HEADERS.has(lower) || !include(lower)) continue;
          const value = request.header?.(lower);
          if (value !== undefined) headers.set(lower, value);
        }
      }
      for (const [header, value] of additional) headers.set(header, value);
      return {
        method: request.method ?? 'GET',
        pathAndQuery: `${request.path ?? '/'}${request.query ?? ''}`,
        authority: request.authority ?? '',
        headers: [...headers],
      };
    },
    interpret(outcome) {
      switch (outcome.kind) {
        case 'allowed':
          return {
            kind: 'allowed',
            upstreamHeaders: pick(outcome.headers, toUpstream),
            downstreamHeaders: pick(outcome.headers, toDownstreamOnAllow),
            hasFailedOpen: false,
          };
        case 'denied':
          return {
            kind: 'denied',
            status: outcome.status,
            body: outcome.body,
            headers: outcome.headers.filter(([header]) => keepOnDeny(header)),
          };
        case 'error':
          return settings.failOpen
            ? { kind: 'allowed', upstreamHeaders: NONE, downstreamHeaders: NONE, hasFailedOpen: true }
            : { kind: 'error', status: statusOnError, body: '', headers: NONE };
      }
    },
  };
}
