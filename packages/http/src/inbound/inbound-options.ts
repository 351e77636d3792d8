import type { IdentitySource, InboundSecurity } from '@weft/core';

/**
 * Envoy's `headers_with_underscores_action`: `x_user` and `x-user` are one header to some
 * frameworks and two to others (bad-inputs D17), so by default such a request is refused (400).
 */
export type UnderscoreHeadersAction = 'REJECT_REQUEST' | 'DROP_HEADER' | 'ALLOW';

/** What every inbound entry (server wrapper, request listener, express, fastify) accepts. */
export interface InboundOptions {
  /**
   * The workload's certificates: the server presents them, and peers are verified against their
   * trust bundle and trust domain. Without it, the mesh's identity slot is followed
   * (`mesh.identity`, which `connectToAgent(mesh, { identity })` fills, or `createMesh({ identity })`).
   * With neither, no mTLS is possible: STRICT ports refuse every connection, PERMISSIVE ones serve
   * plaintext only.
   */
  readonly identity?: IdentitySource;
  /** Trust domains accepted for peers besides the identity's own (Istio's trustDomainAliases). */
  readonly trustDomainAliases?: readonly string[];
  /**
   * The JWKS cache and external-authorizer connections, to share between several servers of one
   * mesh; each pipeline makes (and closes) its own when absent.
   */
  readonly security?: InboundSecurity;
  /** `REJECT_REQUEST` (400, the default), `DROP_HEADER`, or `ALLOW`. */
  readonly headersWithUnderscoresAction?: UnderscoreHeadersAction;
  /** More request headers than this answer 431 (Envoy's `max_headers_count`, 100). */
  readonly maxHeadersCount?: number;
  /**
   * Istio's `numTrustedProxies`: how many proxies in front of this workload append to
   * X-Forwarded-For. 0 (the default) means the header is never believed: `remote.ip` and
   * `remoteIpBlocks` see the connection's peer address (bad-inputs D21).
   */
  readonly numTrustedProxies?: number;
  /**
   * Headers to carry from each inbound request onto the outbound calls its handler makes, besides
   * Istio's (request id, trace context, `end-user`, baggage); lower-case names.
   */
  readonly propagateHeaders?: readonly string[];
  /**
   * `enforce` (the default): PeerAuthentication applies to the connections, as at a sidecar.
   * `ignore`: it does not, and client certificates are never taken for mesh identities: an
   * ingress gateway faces clients outside the mesh and terminates their TLS itself, and Istio
   * applies no PeerAuthentication to its listeners.
   */
  readonly peerAuthentication?: 'enforce' | 'ignore';
}

/** Envoy's default `max_headers_count`. */
export const DEFAULT_MAX_HEADERS_COUNT = 100;
