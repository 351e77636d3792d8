/** The body Envoy's RBAC filter answers with, which clients and dashboards already recognise. */
export const ACCESS_DENIED_BODY = 'RBAC: access denied';
export const ACCESS_DENIED_STATUS = 403;

/**
 * Why a request was allowed or denied; stable strings, safe as a metric label.
 * - `no-allow-policies`: nothing denied it and no ALLOW policy applies to the workload;
 * - `allow-matched`: an ALLOW policy's rule matched;
 * - `deny-matched`: a DENY policy's rule matched;
 * - `no-allow-matched`: ALLOW policies apply and none matched (this includes `allow-nothing`);
 * - `custom-denied`: the external authorizer of a CUSTOM policy said no;
 * - `custom-error`: the external authorizer failed (network, timeout, 5xx) and the provider does
 *   not fail open;
 * - `custom-unavailable`: a CUSTOM policy matched but cannot be asked: its provider is unknown,
 *   invalid or one of several on the workload, or the traffic is not HTTP.
 */
export type AuthzDecisionReason =
  | 'no-allow-policies'
  | 'allow-matched'
  | 'deny-matched'
  | 'no-allow-matched'
  | 'custom-denied'
  | 'custom-error'
  | 'custom-unavailable';

/** The response to send instead of forwarding the request. */
export interface DeniedResponse {
  readonly status: number;
  readonly body: string;
  /** Lower-case names; from an external authorizer's denial (headersToDownstreamOnDeny). */
  readonly headers: readonly (readonly [string, string])[];
}

export interface AuthzDecision {
  readonly isAllowed: boolean;
  readonly reason: AuthzDecisionReason;
  /** The policy that decided, when one did: `AuthorizationPolicy/<namespace>/<name>`. */
  readonly policy?: string;
  /** Index of the deciding rule in that policy. */
  readonly ruleIndex?: number;
  /** An AUDIT policy matched: log the request (Istio's AUDIT never changes the outcome). */
  readonly isAudited: boolean;
  /** The first AUDIT policy that matched (`AuthorizationPolicy/<namespace>/<name>`). */
  readonly auditPolicy?: string;
  /** The extension provider asked, when a CUSTOM policy matched. */
  readonly provider?: string;
  /** The external authorizer failed and the provider's `failOpen` let the request through. */
  readonly hasFailedOpen?: boolean;
  /** Present when the request is denied. */
  readonly response?: DeniedResponse;
  /** Headers the external authorizer asked to set on the request (headersToUpstreamOnAllow). */
  readonly upstreamHeaders?: readonly (readonly [string, string])[];
  /** Headers the external authorizer asked to add to the response (headersToDownstreamOnAllow). */
  readonly downstreamHeaders?: readonly (readonly [string, string])[];
}

export const RBAC_DENIED_RESPONSE: DeniedResponse = Object.freeze({
  status: ACCESS_DENIED_STATUS,
  body: ACCESS_DENIED_BODY,
  headers: Object.freeze([]),
});
