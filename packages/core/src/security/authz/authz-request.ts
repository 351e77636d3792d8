import type { PeerIdentity } from './peer-identity.ts';
import type { RequestAuth } from './request-auth.ts';

/**
 * `http` for HTTP/1.1, HTTP/2 and gRPC; `tcp` for a connection with no HTTP in it, where
 * HTTP-only policy fields cannot be evaluated (bad-inputs G3).
 */
export type AuthzProtocol = 'http' | 'tcp';

/**
 * One request as the authorization engine sees it, independent of the protocol library. The
 * inbound server builds it after path normalization and request authentication.
 */
export interface AuthzRequest {
  /** `http` unless said otherwise. */
  readonly protocol?: AuthzProtocol;
  readonly method?: string;
  /** The normalized path without query (normalizeRequestPath's `path`). */
  readonly path?: string;
  /** The query with its `?`, or `''`; sent to an external authorizer, never matched. */
  readonly query?: string;
  /** Host header or `:authority` as sent; compared without case, port or trailing dot. */
  readonly authority?: string;
  /**
   * Request headers by lower-case name; several values joined with "," (one canonical form for
   * routing and authorization, bad-inputs D20), as RouteRequest's `header`.
   */
  readonly header?: (name: string) => string | undefined;
  /**
   * The request's header names; needed only to send headers chosen by prefix or suffix to an
   * external authorizer (`includeRequestHeadersInCheck: ["x-*"]`).
   */
  readonly headerNames?: () => Iterable<string>;
  /** The address of the connection's peer (`source.ip`, `ipBlocks`). */
  readonly sourceIp: string;
  /** The original client address (`remote.ip`, `remoteIpBlocks`); the peer's when not given. */
  readonly remoteIp?: string;
  readonly destinationIp?: string;
  /** The port this workload received the request on. */
  readonly destinationPort: number;
  /** The verified mTLS identity of the caller; undefined for plaintext. */
  readonly peer?: PeerIdentity;
  /** The TLS server name the caller asked for (`connection.sni`). */
  readonly sni?: string;
  /** Request authentication's result; undefined when no token was presented. */
  readonly auth?: RequestAuth;
  /** Aborts an external authorization check (CUSTOM) when the request goes away. */
  readonly signal?: AbortSignal;
}
