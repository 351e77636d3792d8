/**
 * What a terminating server checks once a handshake is done, where node's own options cannot:
 * one TLS server per port takes every server on it, so the client certificate is requested for
 * the whole port and judged here by the server SNI chose (MUTUAL needs one that chains to that
 * server's caCertificates — node verified it against the SNI context's CAs — and, when listed,
 * one of its subjectAltNames), and the negotiated version must be in the server's bounds.
 */
import type { TLSSocket } from 'node:tls';
import type { TlsTermination } from '../servers/gateway-server.ts';
import { isVersionWithin } from './tls-versions.ts';

/** Why the connection must be closed, or undefined when it may carry requests. */
export function handshakeProblem(socket: TLSSocket, tls: TlsTermination): string | undefined {
  if (!isVersionWithin(socket.getProtocol(), tls.minVersion, tls.maxVersion))
    return `protocol ${String(socket.getProtocol())} is outside ${tls.minVersion ?? 'any'}–${tls.maxVersion ?? 'any'}`;
  if (tls.cipherSuites.length > 0 && socket.getProtocol() !== 'TLSv1.3') {
    const cipher = socket.getCipher().name;
    if (!tls.cipherSuites.includes(cipher)) return `cipher ${cipher} is not among cipherSuites`;
  }
  if (tls.mode === 'SIMPLE') return undefined;
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) {
    return tls.mode === 'MUTUAL'
      ? 'MUTUAL TLS needs a client certificate, and none was presented'
      : undefined;
  }
  if (!socket.authorized)
    return `the client certificate is not trusted by caCertificates: ${String(socket.authorizationError)}`;
  if (tls.subjectAltNames.length === 0) return undefined;
  const names = subjectAltNames(certificate.subjectAltName);
  if (!tls.subjectAltNames.some((name) => names.includes(name)))
    return `the client certificate has none of subjectAltNames ${tls.subjectAltNames.join(', ')}`;
  return undefined;
}

/** `DNS:a.example.com, URI:spiffe://x, IP Address:10.0.0.1` → the values. */
function subjectAltNames(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text.split(', ').map((entry) => entry.slice(entry.indexOf(':') + 1));
}
