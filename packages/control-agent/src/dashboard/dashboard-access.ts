import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http/http-error.ts';
import { isLocalRequest } from '../http/loopback.ts';

export { isLoopbackHost } from '../http/loopback.ts';

/** The part of a request the decision reads: the peer's address and two headers. */
export interface AccessRequest {
  readonly socket: { readonly remoteAddress?: string | undefined };
  readonly headers: IncomingMessage['headers'];
}

/**
 * Who may see the dashboard, its event stream and the edge view (docs/dashboard.md):
 *
 * - a loopback peer (127.0.0.0/8, ::1) that addressed the agent by a loopback name (`localhost`,
 *   `127.0.0.1`, `[::1]`, or no Host at all): no login, as on a developer's machine;
 * - anyone else only with the admin token: `Authorization: Bearer <token>` (curl, scripts) or
 *   HTTP Basic with the token as the password (a browser, which prompts for it on the 401 and then
 *   sends it with the page's own requests and its EventSource). Without an admin token configured
 *   they are refused (403), as writes are.
 *
 * The loopback rule (isLocalRequest) is the admin API's reads' too (PROTOCOL.md §4), with one
 * difference: an agent without an admin token serves those reads to anyone (development mode),
 * but the dashboard only to loopback, because a page that a browser renders and keeps open is
 * what a remote peer would reach for.
 */
export class DashboardAccess {
  readonly #tokenDigest: Buffer | undefined;

  constructor(adminToken: string | undefined) {
    this.#tokenDigest = adminToken === undefined ? undefined : digest(adminToken);
  }

  /** Throws 401 (with a Basic challenge) or 403 when the request may not see the dashboard. */
  check(request: AccessRequest): void {
    if (isLocalRequest(request)) return;
    if (this.#tokenDigest === undefined) {
      throw new HttpError(
        403,
        'forbidden',
        'the dashboard is served to loopback peers only when the agent has no admin token configured',
      );
    }
    const given = presentedToken(request.headers.authorization);
    if (given === undefined || !timingSafeEqual(digest(given), this.#tokenDigest)) {
      throw new HttpError(
        401,
        'unauthorized',
        given === undefined
          ? 'the dashboard needs the admin token: "Authorization: Bearer <token>", or Basic with the token as the password'
          : 'the admin token is not valid',
        { headers: { 'www-authenticate': 'Basic realm="weft-dashboard", charset="UTF-8"' } },
      );
    }
  }
}

/** The token of `Bearer <token>`, or the password of `Basic base64(user:password)`. */
function presentedToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bearer = /^Bearer +(\S+) *$/i.exec(header);
  if (bearer?.[1] !== undefined) return bearer[1];
  const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (basic?.[1] === undefined) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
