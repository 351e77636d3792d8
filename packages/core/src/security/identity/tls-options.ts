import type { PeerCertificate, SecureContextOptions, Server, TLSSocket } from 'node:tls';
import type { Disposer } from '../../events/event-channel.ts';
import type { IdentityMaterial, IdentitySource } from './identity-material.ts';
import {
  checkPeerCertificate,
  type PeerPolicy,
  type VerifiedPeer,
  verifyTlsPeer,
} from './peer-verification.ts';

/**
 * node:tls options for mTLS between workloads, from a workload's identity. Node verifies the
 * chain against the trust bundle (`ca`: only the mesh's roots, never the system store); Weft adds
 * the SPIFFE checks node does not make: on the client in `checkServerIdentity` (node's own ignores
 * URI SANs: bad-inputs E7), on the server after the handshake with `acceptTlsPeer`.
 */

/** TLS 1.2 is the floor Istio sets for mesh traffic. */
const MIN_VERSION = 'TLSv1.2';

/** The workload's certificate, key and trust bundle, for `tls.createSecureContext` or `setSecureContext`. */
export function secureContextOptions(material: IdentityMaterial): SecureContextOptions {
  return {
    cert: material.certChainPem,
    key: material.keyPem,
    ca: [...material.trustBundlePem],
    minVersion: MIN_VERSION,
  };
}

/**
 * Options for a `tls.createServer` that requires a client certificate from the trust bundle.
 * Node then refuses peers without one, or with an expired or untrusted one, during the
 * handshake; call `acceptTlsPeer` on each secure connection for the SPIFFE checks.
 */
export function serverTlsOptions(material: IdentityMaterial): SecureContextOptions & {
  readonly requestCert: true;
  readonly rejectUnauthorized: true;
} {
  return { ...secureContextOptions(material), requestCert: true, rejectUnauthorized: true };
}

/**
 * Options for `tls.connect` as this workload: its certificate, the trust bundle, and a
 * `checkServerIdentity` that accepts the server only if it is an SVID of an accepted trust
 * domain allowed by `policy` (e.g. the identities the destination service runs as). The
 * hostname is deliberately not checked: in a mesh the identity is the SPIFFE ID.
 */
export function clientTlsOptions(
  material: IdentityMaterial,
  policy: PeerPolicy = {},
): SecureContextOptions & {
  readonly rejectUnauthorized: true;
  readonly checkServerIdentity: (host: string, certificate: PeerCertificate) => Error | undefined;
} {
  return {
    ...secureContextOptions(material),
    rejectUnauthorized: true,
    checkServerIdentity: spiffeServerCheck(material.trustDomain, policy),
  };
}

/** A `checkServerIdentity` that checks the server's SPIFFE ID instead of its hostname. */
export function spiffeServerCheck(
  trustDomain: string,
  policy: PeerPolicy = {},
): (host: string, certificate: PeerCertificate) => Error | undefined {
  return (_host, certificate) => {
    try {
      checkPeerCertificate(certificate.raw, trustDomain, policy, 'server');
      return undefined;
    } catch (error) {
      return error as Error;
    }
  };
}

/**
 * The server side's SPIFFE checks on a secure connection (TLS servers have no hook for them
 * during the handshake). Throws PeerVerificationError; the caller destroys the socket.
 */
export function acceptTlsPeer(
  socket: TLSSocket,
  material: IdentityMaterial,
  policy: PeerPolicy = {},
): VerifiedPeer {
  return verifyTlsPeer(socket, material.trustDomain, policy, 'client');
}

/**
 * Keeps a TLS server presenting the current identity: every renewal or trust-bundle change
 * swaps its secure context (`server.setSecureContext`). Connections already open keep theirs;
 * new handshakes use the new one. A new context also has new session-ticket keys, so a session
 * resumed from before a trust change is refused and a full handshake verifies the peer again
 * (bad-inputs E12).
 */
export function followIdentity(server: Server, source: IdentitySource): Disposer {
  return source.onChange((material) => server.setSecureContext(secureContextOptions(material)));
}
