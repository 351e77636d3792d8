import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Headers a caller could forge to claim what only the mesh may say (bad-inputs D21). Weft trusts
 * no request header for identity: the caller's identity is the certificate its connection proved.
 */

/** Envoy's X-Forwarded-Client-Cert: Weft writes it (SANITIZE_SET, as Istio's sidecar) and never reads it. */
export const FORWARDED_CLIENT_CERT = 'x-forwarded-client-cert';

/**
 * Drops any X-Forwarded-Client-Cert the caller sent and, over mTLS, writes the verified one
 * (`By=<this workload>;URI=<the caller>`), so the application can read who called without
 * trusting the caller's word.
 */
export function setForwardedClientCert(headers: IncomingHttpHeaders, verified: string | undefined): void {
  if (verified === undefined) {
    if (headers[FORWARDED_CLIENT_CERT] !== undefined) delete headers[FORWARDED_CLIENT_CERT];
    return;
  }
  headers[FORWARDED_CLIENT_CERT] = verified;
}

/** The X-Forwarded-Client-Cert value of a verified caller. */
export function forwardedClientCert(ownSpiffeId: string | undefined, peerSpiffeId: string): string {
  return ownSpiffeId === undefined ? `URI=${peerSpiffeId}` : `By=${ownSpiffeId};URI=${peerSpiffeId}`;
}

/** Gives a request without an `x-request-id` one, as Envoy does, so logs and hops share it. */
export function ensureRequestId(headers: IncomingHttpHeaders): void {
  if (headers['x-request-id'] === undefined) headers['x-request-id'] = randomUUID();
}

/**
 * The original client's address for `remote.ip`: with `trustedProxies` proxies in front, each of
 * which appended the address it received from to X-Forwarded-For, the client is the entry that
 * many places from the right; with none (the default), or a header too short to hold that many,
 * it is the connection's peer. A caller can prepend anything, never change what a trusted proxy
 * appended.
 */
export function remoteAddress(
  forwardedFor: string | string[] | undefined,
  trustedProxies: number,
  peerAddress: string,
): string {
  if (trustedProxies <= 0 || forwardedFor === undefined) return peerAddress;
  const entries = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',')).split(',');
  const entry = entries[entries.length - trustedProxies]?.trim();
  return entry === undefined || entry === '' ? peerAddress : entry;
}
