import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { isLoopback } from '../http/admin-auth.ts';
import { HttpError } from '../http/http-error.ts';

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
 * The Host check keeps a web page elsewhere from reading a loopback-only dashboard through DNS
 * rebinding (its host name re-pointed at 127.0.0.1): such a request arrives from loopback but
 * names a foreign host, and needs the token. A reverse proxy on the same machine is loopback too:
 * it must forward the original Host (or the token) for this to hold.
 *
 * This is stricter than the admin API's reads (PROTOCOL.md §4: unauthenticated), because a page
 * that a browser renders and keeps open is what a remote peer would reach for.
 */
export class DashboardAccess {
  readonly #tokenDigest: Buffer | undefined;

  constructor(adminToken: string | undefined) {
    this.#tokenDigest = adminToken === undefined ? undefined : digest(adminToken);
  }

  /** Throws 401 (with a Basic challenge) or 403 when the request may not see the dashboard. */
  check(request: AccessRequest): void {
    if (isLoopback(request.socket.remoteAddress) && isLoopbackHost(request.headers.host)) return;
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

/** Whether a Host header names this machine's loopback: `localhost`, 127.x.y.z, [::1]; any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return true;
  let name = host.toLowerCase();
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    name = end === -1 ? name : name.slice(1, end);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 0) return false;
  return isLoopback(name);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
