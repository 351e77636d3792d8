import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type SpiffeId, SVID_PROOF_SCHEME } from '@weft/core';
import { HttpError } from './http-error.ts';
import { isLocalRequest, isLoopback, type PeerRequest } from './loopback.ts';

export { isLoopback } from './loopback.ts';

/** Who a write is from, as `authorizeWrite` established it; route handlers get it as `caller`. */
export type Caller = AdminCaller | WorkloadCaller;

/** The admin token, or (on an agent without one) a loopback peer: may write anything. */
export interface AdminCaller {
  readonly kind: 'admin';
}

/** A workload proving its own identity (PROTOCOL.md §4.2): may write only what is its own. */
export interface WorkloadCaller {
  readonly kind: 'workload';
  readonly spiffeId: SpiffeId;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly credential: 'join-token' | 'svid';
  /** The body, when checking the credential read it (an SVID proof covers the body's hash). */
  readonly body: string | undefined;
}

/** Who may make a write route's calls (`Route.writers`). */
export type Writers = 'admin' | 'admin-or-workload';

/**
 * Who may call a route that is not a write (`Route.readers`), when the agent has an admin token;
 * without one every read is open (development mode, PROTOCOL.md §4):
 * - `admin`: the admin token, or a request made on the agent's machine (isLocalRequest), as for
 *   the dashboard — the mesh's config and state (resources, workloads, clients, analysis);
 * - `admin-or-workload`: a credential, from loopback too — the admin token, a join token or an
 *   SVID proof; the watch, which carries every policy and endpoint the client may see;
 * - `anyone`: what is public by design (/healthz, the trust bundle), and routes that check a
 *   credential of their own (a stream token, the dashboard's access, a CSR's join token).
 */
export type Readers = 'admin' | 'admin-or-workload' | 'anyone';

/** Checks a workload's credential (src/ca/workload-credentials.ts); throws 401 when it does not hold. */
export interface WorkloadCredentialCheck {
  fromJoinToken(token: string): Promise<WorkloadCaller>;
  /** Reads the body (bounded), whose hash the proof signs. */
  fromSvidProof(credentials: string, request: IncomingMessage, pathname: string): Promise<WorkloadCaller>;
}

const ADMIN: AdminCaller = Object.freeze({ kind: 'admin' });

/**
 * Decides whether a request may write. With a token configured: `Authorization: Bearer <token>`,
 * compared in constant time. Without one: only loopback peers. Checked before anything of the
 * request body is read, so an unauthenticated peer can make the agent do no parsing at all (B8).
 * Routes open to workloads (registration) also take a workload's own credential, bound to its
 * identity, which the route then checks against what it writes.
 */
export class AdminAuth {
  readonly #tokenDigest: Buffer | undefined;
  readonly #workloads: WorkloadCredentialCheck | undefined;

  constructor(adminToken: string | undefined, workloads?: WorkloadCredentialCheck) {
    this.#tokenDigest = adminToken === undefined ? undefined : digest(adminToken);
    this.#workloads = workloads;
  }

  /**
   * Authorizes a write route's call: `admin` routes as `check` does; `admin-or-workload` routes
   * also with a join token (`Bearer`) or an SVID proof (`Weft-SVID`), whose identity the caller
   * carries. An agent without an admin token still takes loopback calls that carry no credential
   * (it mints no join tokens, so its workloads have no identity to show); a credential that is
   * given is always checked, from loopback or not (bad-inputs B9: loopback is not an identity).
   */
  async authorizeWrite(
    request: IncomingMessage,
    pathname: string,
    writers: Writers = 'admin',
  ): Promise<Caller> {
    const header = request.headers.authorization;
    const workloads = this.#workloads;
    if (writers === 'admin' || workloads === undefined || header === undefined) {
      if (writers === 'admin-or-workload' && header === undefined && this.#tokenDigest !== undefined) {
        throw unauthorized(
          `this request needs "Authorization: Bearer <admin token or join token>" or "${SVID_PROOF_SCHEME} <proof>"`,
        );
      }
      this.check(request);
      return ADMIN;
    }
    const match = /^(\S+) +(\S+) *$/.exec(header);
    const scheme = match?.[1]?.toLowerCase();
    const credentials = match?.[2] ?? '';
    if (scheme === SVID_PROOF_SCHEME.toLowerCase())
      return workloads.fromSvidProof(credentials, request, pathname);
    if (scheme !== 'bearer') {
      throw unauthorized(
        `Authorization must be "Bearer <admin token or join token>" or "${SVID_PROOF_SCHEME} <proof>"`,
      );
    }
    if (this.#tokenDigest !== undefined && timingSafeEqual(digest(credentials), this.#tokenDigest))
      return ADMIN;
    return workloads.fromJoinToken(credentials);
  }

  /**
   * Authorizes a call to a route that is not a write, as its `readers` say. Resolves to the
   * caller when a credential established one (the watch ties a workload's stream to its identity),
   * and to undefined when the route is open to the request. Throws 401 before the route runs.
   */
  async authorizeRead(
    request: IncomingMessage,
    pathname: string,
    readers: Readers = 'admin',
  ): Promise<Caller | undefined> {
    if (readers === 'anyone' || this.#tokenDigest === undefined) return undefined;
    if (readers === 'admin') {
      this.checkAdminRead(request);
      return ADMIN;
    }
    return this.authorizeWrite(request, pathname, 'admin-or-workload');
  }

  /**
   * Throws 401 when an admin read is not allowed: off the agent's machine (or to it by a foreign
   * Host name), the admin token is needed. Open on an agent without an admin token.
   */
  checkAdminRead(request: PeerRequest): void {
    if (this.#tokenDigest === undefined || isLocalRequest(request)) return;
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (match?.[1] === undefined) {
      throw new HttpError(
        401,
        'unauthorized',
        'reads of the mesh\'s config and state need "Authorization: Bearer <admin token>" unless made on the agent\'s own machine (loopback)',
        { headers: { 'www-authenticate': 'Bearer realm="weft-agent"' } },
      );
    }
    if (!timingSafeEqual(digest(match[1]), this.#tokenDigest)) {
      throw new HttpError(401, 'unauthorized', 'the admin token is not valid', {
        headers: { 'www-authenticate': 'Bearer realm="weft-agent", error="invalid_token"' },
      });
    }
  }

  /**
   * For operations that mint or change identities (join tokens, CA rotation): the admin token is
   * required, and its absence is not made up for by a loopback peer — any local process could
   * otherwise mint an identity (bad-inputs B9). Throws 403 when the agent has no token, 401 when
   * the request does not carry it.
   */
  requireToken(request: IncomingMessage): void {
    if (this.#tokenDigest === undefined) {
      throw new HttpError(
        403,
        'forbidden',
        'identity operations need the agent to have an admin token (--admin-token): loopback is not trusted for them',
      );
    }
    this.check(request);
  }

  /** Throws 401/403 when the request may not write. */
  check(request: IncomingMessage): void {
    if (this.#tokenDigest === undefined) {
      if (isLoopback(request.socket.remoteAddress)) return;
      throw new HttpError(
        403,
        'forbidden',
        'writes are accepted only from loopback when the agent has no admin token configured',
      );
    }
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (match === null || match[1] === undefined) {
      throw new HttpError(401, 'unauthorized', 'this request needs "Authorization: Bearer <admin token>"', {
        headers: { 'www-authenticate': 'Bearer realm="weft-agent"' },
      });
    }
    if (!timingSafeEqual(digest(match[1]), this.#tokenDigest)) {
      throw new HttpError(401, 'unauthorized', 'the admin token is not valid', {
        headers: { 'www-authenticate': 'Bearer realm="weft-agent", error="invalid_token"' },
      });
    }
  }
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message, {
    headers: { 'www-authenticate': `Bearer realm="weft-agent", ${SVID_PROOF_SCHEME} realm="weft-agent"` },
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
