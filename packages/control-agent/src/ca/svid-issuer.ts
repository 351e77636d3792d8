import { type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import {
  buildCertificate,
  type CertificateExtension,
  Oids,
  readCertificate,
  type SpiffeId,
  toPem,
  x509Extensions,
} from '@weft/core';
import type { SigningAuthority } from './signing-authority.ts';

export interface SvidIssue {
  readonly spiffeId: SpiffeId;
  /** The workload's key, whose possession its CSR proved. */
  readonly publicKey: KeyObject;
  readonly nowMs: number;
  readonly ttlMs: number;
  readonly backdateMs: number;
}

export interface IssuedSvid {
  readonly certificate: X509Certificate;
  /** PEM: the SVID, then the authority's intermediates. */
  readonly chainPem: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * An X.509-SVID (X509-SVID §4–5) for `spiffeId`: its SPIFFE ID as the one URI SAN (critical, the
 * subject is empty), not a CA, keyUsage digitalSignature (+ keyEncipherment for RSA keys only),
 * extendedKeyUsage serverAuth and clientAuth, a random 127-bit serial, notBefore set back by
 * `backdateMs` (bad-inputs E2) and notAfter no later than the authority's own. Every SVID is
 * verified with node:crypto against the authority before it is handed out.
 */
export function issueSvid(authority: SigningAuthority, issue: SvidIssue): IssuedSvid {
  const authorityNotAfterMs = authority.facts.notAfter.getTime();
  if (authorityNotAfterMs <= issue.nowMs) {
    throw new RangeError(`the CA certificate expired at ${authority.facts.notAfter.toISOString()}`);
  }
  const serialNumber = randomBytes(16);
  serialNumber[0] = (serialNumber[0] as number) & 0x7f;
  const notBefore = new Date(issue.nowMs - issue.backdateMs);
  const notAfter = new Date(Math.min(issue.nowMs + issue.ttlMs, authorityNotAfterMs));
  const isRsa = issue.publicKey.asymmetricKeyType === 'rsa';
  const extensions: CertificateExtension[] = [
    x509Extensions.basicConstraints(false),
    x509Extensions.keyUsage(isRsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']),
    x509Extensions.extendedKeyUsage([Oids.serverAuth, Oids.clientAuth]),
    x509Extensions.subjectAltName({ uris: [issue.spiffeId.uri] }, true),
  ];
  const keyId = authority.facts.subjectKeyIdentifier;
  if (keyId !== undefined) extensions.push(x509Extensions.authorityKeyIdentifier(keyId));
  const der = buildCertificate(
    {
      serialNumber,
      issuer: authority.facts.subject,
      subject: Buffer.from([0x30, 0x00]),
      notBefore,
      notAfter,
      publicKey: issue.publicKey,
      extensions,
    },
    authority.privateKey,
  );
  const certificate = new X509Certificate(der);
  if (
    !certificate.checkIssued(authority.certificate) ||
    !certificate.verify(authority.certificate.publicKey)
  ) {
    throw new Error('an issued SVID does not verify against its authority (a bug in the CA)');
  }
  const facts = readCertificate(der);
  return {
    certificate,
    chainPem: [toPem(der, 'CERTIFICATE'), ...authority.intermediatesPem].join(''),
    serialNumber: facts.serialNumber,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
  };
}
