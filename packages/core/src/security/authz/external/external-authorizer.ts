import type { HttpAuthorizerSettings } from './extension-provider.ts';

/** The check request sent to an external authorizer: the original request's head, no body. */
export interface ExternalCheckRequest {
  readonly method: string;
  /** The original path and query; the provider's `pathPrefix` is put in front by the client. */
  readonly pathAndQuery: string;
  /** The original authority, sent as the check request's Host. */
  readonly authority: string;
  /** Lower-case names; already filtered per `includeRequestHeadersInCheck`. */
  readonly headers: readonly (readonly [string, string])[];
}

/** What the authorizer answered, before the provider's header lists filter it. */
export type ExternalCheckOutcome =
  | { readonly kind: 'allowed'; readonly headers: readonly (readonly [string, string])[] }
  | {
      readonly kind: 'denied';
      readonly status: number;
      readonly body: string;
      readonly headers: readonly (readonly [string, string])[];
    }
  /** No answer that decides: network failure, timeout, a 5xx (Istio counts 5xx as failure). */
  | { readonly kind: 'error'; readonly reason: string };

/** Asks an external HTTP authorizer; never rejects (failures are the `error` outcome). */
export interface ExternalAuthorizer {
  check(
    settings: HttpAuthorizerSettings,
    request: ExternalCheckRequest,
    signal?: AbortSignal,
  ): Promise<ExternalCheckOutcome>;
}
