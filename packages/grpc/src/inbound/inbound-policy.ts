import type { Metadata, ServerInterceptingCallInterface } from '@grpc/grpc-js';

/** grpc-js's connection security details (not exported by name): TLS state, peer certificate. */
export type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;

/** What an inbound policy may look at: the call before its handler runs. */
export interface InboundCallInfo {
  /** `/package.Service/Method`: the request path AuthorizationPolicy `paths` match. */
  readonly method: string;
  /** The request metadata (`authorization` for RequestAuthentication's JWT). */
  readonly metadata: Metadata;
  /** The `:authority` the client sent (AuthorizationPolicy `hosts`). */
  readonly host: string;
  /** grpc-js's peer string (`ipv4:10.0.0.7:51234`). */
  readonly peer: string;
  /** The connection's TLS details: the peer certificate, and so its SPIFFE ID, under mTLS. */
  readonly authContext: AuthContext;
  readonly remoteAddress: string | undefined;
}

/** What an inbound policy decides. */
export type InboundVerdict =
  | { readonly kind: 'allow' }
  | {
      readonly kind: 'deny';
      /** 401-like (no or bad credentials) or 403-like (credentials fine, not allowed). */
      readonly reason: 'unauthenticated' | 'permission-denied';
      /** Sent to the caller as the status details, e.g. `RBAC: access denied`. */
      readonly details: string;
      /** The policy that decided, for events and logs (`AuthorizationPolicy/ns/name`). */
      readonly policy?: string;
    };

/**
 * The hook where request authentication and authorization plug in: called once per inbound call,
 * after its metadata arrived and before its handler runs; a handler never runs for a denied call.
 * It may be async (a JWKS fetch). Issue 7's RequestAuthentication and AuthorizationPolicy
 * (with the method path as the request path) are to be one implementation, over @weft/core's
 * InboundSecurity (its RequestAuthenticator and AuthorizationEngine); that wiring is not done yet.
 */
export type InboundPolicy = (call: InboundCallInfo) => InboundVerdict | Promise<InboundVerdict>;

export const ALLOW: InboundVerdict = Object.freeze({ kind: 'allow' });
