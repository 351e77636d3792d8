import type { Metadata, ServerInterceptingCallInterface } from '@grpc/grpc-js';
import type { Denial, PeerIdentity } from '@weft/core';

/** grpc-js's connection security details (not exported by name): TLS state, peer certificate. */
export type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;

/** What an inbound policy may look at: the call before its handler runs. */
export interface InboundCallInfo {
  /** `/package.Service/Method`: the request path AuthorizationPolicy `paths` match. */
  readonly method: string;
  /**
   * The request metadata (`authorization` for RequestAuthentication's JWT). A policy may edit it:
   * the handler gets it as left (the mesh's removes a consumed token, adds claim headers).
   */
  readonly metadata: Metadata;
  /** The `:authority` the client sent (AuthorizationPolicy `hosts`). */
  readonly host: string;
  /** grpc-js's peer string (`ipv4:10.0.0.7:51234`). */
  readonly peer: string;
  /** The connection's TLS details as grpc-js reports them (computed when read: it costs). */
  readonly authContext: AuthContext;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  /** The port the call arrived on (PeerAuthentication `portLevelMtls`, AuthorizationPolicy `ports`). */
  readonly localPort: number | undefined;
  /**
   * The caller's SPIFFE ID, verified when its mTLS connection was accepted by a MeshServer's
   * listener (chain to the mesh's trust bundle, X509-SVID checks); undefined for plaintext callers
   * and for connections the MeshServer did not accept itself.
   */
  readonly spiffeId: string | undefined;
  /** The same identity as AuthorizationPolicy reads it (`principals`, `namespaces`, …). */
  readonly peerIdentity: PeerIdentity | undefined;
  /** The TLS server name the caller asked for (`connection.sni`). */
  readonly sni: string | undefined;
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
      /** The policy that decided, for events and metrics (`AuthorizationPolicy/ns/name`). */
      readonly policy?: string;
      /**
       * What refused it, for `weft_denials_total`; by default `request-authentication` for
       * `unauthenticated` and `authorization` for `permission-denied`.
       */
      readonly denial?: Denial['reason'];
      /** Trailing metadata for the caller (`www-authenticate` of a refused token). */
      readonly metadata?: readonly (readonly [string, string])[];
    };

/**
 * The hook where request authentication and authorization plug in: called once per inbound call,
 * after its metadata arrived and before its handler runs; a handler never runs for a denied call.
 * It may be async (a JWKS fetch, an external authorizer). A MeshServer always runs the mesh's own,
 * `meshInboundPolicy` (PeerAuthentication, RequestAuthentication, AuthorizationPolicy), and then
 * the application's `policy`, if any.
 */
export type InboundPolicy = (call: InboundCallInfo) => InboundVerdict | Promise<InboundVerdict>;

export const ALLOW: InboundVerdict = Object.freeze({ kind: 'allow' });
