import type { CertificateFacts } from '../x509/certificate-reader.ts';
import { Oids } from '../x509/oids.ts';
import { PeerVerificationError } from './peer-verification-error.ts';
import { parseSpiffeId, type SpiffeId } from './spiffe-id.ts';

/** Which end of a connection presents the certificate: what its extended key usage must allow. */
export type SvidRole = 'server' | 'client';

/**
 * The X509-SVID rules for a leaf (X509-SVID §4–5), on facts read with Weft's own DER reader:
 * - exactly one URI SAN, and it is a valid SPIFFE ID with a path (E6, E9). Node's `subjectaltname`
 *   joins every SAN into one comma-separated string, so they are counted here instead;
 * - not a CA: basicConstraints cA false, no keyCertSign or cRLSign (E8);
 * - keyUsage, when present, includes digitalSignature;
 * - extendedKeyUsage, when present, includes serverAuth (a server) or clientAuth (a client) (E11).
 */
export function checkLeafSvid(facts: CertificateFacts, role: SvidRole | undefined): SpiffeId {
  const uris = facts.subjectAltNames?.uris ?? [];
  if (uris.length !== 1) {
    throw new PeerVerificationError(
      'not-an-svid',
      `an X509-SVID has exactly one URI SAN; this certificate has ${uris.length}`,
    );
  }
  let spiffeId: SpiffeId;
  try {
    spiffeId = parseSpiffeId(uris[0] as string);
  } catch (error) {
    throw new PeerVerificationError(
      'not-an-svid',
      `the URI SAN is not a SPIFFE ID: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (spiffeId.path === '') {
    throw new PeerVerificationError('not-an-svid', `${spiffeId.uri} names a trust domain, not a workload`);
  }
  if (facts.basicConstraints?.isCa === true) {
    throw new PeerVerificationError(
      'not-an-svid',
      `the certificate of ${spiffeId.uri} is a CA (basicConstraints cA=true)`,
    );
  }
  const usage = facts.keyUsage;
  if (usage !== undefined) {
    if (usage.has('keyCertSign') || usage.has('cRLSign')) {
      throw new PeerVerificationError(
        'not-an-svid',
        `the certificate of ${spiffeId.uri} may sign certificates (keyCertSign/cRLSign)`,
      );
    }
    if (!usage.has('digitalSignature')) {
      throw new PeerVerificationError(
        'not-an-svid',
        `the certificate of ${spiffeId.uri} lacks the digitalSignature key usage`,
      );
    }
  }
  const extended = facts.extendedKeyUsage;
  if (extended !== undefined && role !== undefined) {
    const needed = role === 'server' ? Oids.serverAuth : Oids.clientAuth;
    if (!extended.includes(needed)) {
      throw new PeerVerificationError(
        'not-an-svid',
        `the certificate of ${spiffeId.uri} is not for ${role === 'server' ? 'serverAuth' : 'clientAuth'} (extendedKeyUsage)`,
      );
    }
  }
  return spiffeId;
}
