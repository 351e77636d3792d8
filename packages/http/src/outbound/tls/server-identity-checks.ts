import { checkServerIdentity as checkHostName, type PeerCertificate } from 'node:tls';
import {
  checkPeerCertificate,
  matchesSubjectAltNames,
  readCertificate,
  type SpiffeId,
  UpstreamTlsError,
} from '@weft/core';

/** node:tls's `checkServerIdentity`: undefined to accept the server, an Error to refuse it. */
export type ServerIdentityCheck = (host: string, certificate: { raw: Buffer }) => Error | undefined;

/**
 * ISTIO_MUTUAL's check of the server: an X509-SVID of `trustDomain` (node has verified the chain
 * against the bundle) whose SPIFFE ID `allows` accepts. `lastVerified` is the ID it accepted last:
 * node calls the check and then announces the connection in the same tick, so the connector
 * reads the identity of the connection it is handing out without parsing the certificate again.
 */
export function spiffeIdentityCheck(
  trustDomain: string,
  allows: (id: SpiffeId) => boolean,
): { readonly checkServerIdentity: ServerIdentityCheck; readonly lastVerified: () => string | undefined } {
  const policy = { allowedIds: allows };
  let lastVerified: string | undefined;
  return {
    checkServerIdentity: (_host, certificate) => {
      try {
        lastVerified = checkPeerCertificate(certificate.raw, trustDomain, policy, 'server').spiffeId.uri;
        return undefined;
      } catch (error) {
        return error as Error;
      }
    },
    lastVerified: () => lastVerified,
  };
}

/**
 * TLS origination's check: none with insecureSkipVerify; the DestinationRule's subjectAltNames,
 * compared by type with Weft's X.509 reader, when it lists some; otherwise node's own check that
 * the certificate is valid for the SNI host (Istio's auto SAN validation).
 */
export function originationCheck(
  isInsecure: boolean,
  subjectAltNames: readonly string[],
): ServerIdentityCheck {
  if (isInsecure) return () => undefined;
  if (subjectAltNames.length === 0) {
    return (host, certificate) => checkHostName(host, certificate as PeerCertificate);
  }
  return (_host, certificate) => checkSubjectAltNames(certificate.raw, subjectAltNames);
}

function checkSubjectAltNames(raw: Buffer, expected: readonly string[]): Error | undefined {
  let names: ReturnType<typeof readCertificate>['subjectAltNames'];
  try {
    names = readCertificate(raw).subjectAltNames;
  } catch (error) {
    return new UpstreamTlsError('san-mismatch', true, `the server's certificate cannot be read`, {
      cause: error,
    });
  }
  if (matchesSubjectAltNames(names, expected)) return undefined;
  const presented = names === undefined ? [] : [...names.dnsNames, ...names.uris, ...names.ipAddresses];
  return new UpstreamTlsError(
    'san-mismatch',
    true,
    `the server's certificate names ${presented.length === 0 ? 'nothing' : presented.join(', ')}, none of ${expected.join(', ')}`,
  );
}
