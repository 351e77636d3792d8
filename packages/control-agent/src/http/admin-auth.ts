import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from './http-error.ts';

/**
 * Decides whether a request may write. With a token configured: `Authorization: Bearer <token>`,
 * compared in constant time. Without one: only loopback peers. Checked before anything of the
 * request body is read, so an unauthenticated peer can make the agent do no parsing at all (B8).
 */
export class AdminAuth {
  readonly #tokenDigest: Buffer | undefined;

  constructor(adminToken: string | undefined) {
    this.#tokenDigest = adminToken === undefined ? undefined : digest(adminToken);
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

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}
