import { X509Certificate } from 'node:crypto';
import type { CertificateReport, CertificateSummary } from '../../admin/certificate-report.ts';
import { readCertificate } from '../x509/certificate-reader.ts';
import { readPemBlock } from '../x509/pem.ts';
import type { IdentityMaterial } from './identity-material.ts';
import { certificateSha256 } from './trust-bundle.ts';

/**
 * The `secret` section of a workload's config dump (`weft proxy-config secret`): its SVID and
 * trust bundle as the workload holds them. Never the key.
 */
export interface SecretSummary {
  readonly state: 'pending' | 'active' | 'expired';
  readonly spiffeId: string;
  readonly certificate?: {
    readonly serialNumber: string;
    readonly issuer: string;
    readonly notBefore: string;
    readonly notAfter: string;
  };
  readonly trustBundle: readonly RootSummary[];
  readonly trustBundleVersion?: string;
  /** The last failure to obtain or renew, until the next success. */
  readonly lastError?: string;
}

export interface RootSummary {
  readonly sha256: string;
  readonly subject: string;
  readonly notAfter: string;
}

export function summarizeSecret(
  spiffeId: string,
  material: IdentityMaterial | undefined,
  nowMs: number,
  lastError: unknown,
): SecretSummary {
  const error =
    lastError === undefined
      ? {}
      : { lastError: lastError instanceof Error ? lastError.message : String(lastError) };
  if (material === undefined) return { state: 'pending', spiffeId, trustBundle: [], ...error };
  return {
    state: nowMs > material.notAfter.getTime() ? 'expired' : 'active',
    spiffeId: material.spiffeId,
    certificate: {
      serialNumber: material.serialNumber,
      issuer: material.issuer.replace(/\n/g, ', '),
      notBefore: material.notBefore.toISOString(),
      notAfter: material.notAfter.toISOString(),
    },
    trustBundle: material.trustBundlePem.map(summarizeRoot),
    trustBundleVersion: material.trustBundleVersion,
    ...error,
  };
}

/** The workload's certificates for /certs and the certificate-expiry gauge (admin/certificate-report.ts). */
export function certificateReportOf(material: IdentityMaterial | undefined): CertificateReport {
  if (material === undefined) return { certificates: [] };
  const certificates: CertificateSummary[] = [
    {
      name: 'workload',
      spiffeId: material.spiffeId,
      serialNumber: material.serialNumber,
      notBeforeMs: material.notBefore.getTime(),
      notAfterMs: material.notAfter.getTime(),
    },
  ];
  for (const [index, pem] of material.trustBundlePem.entries()) {
    const facts = readCertificate(readPemBlock(pem, 'CERTIFICATE'));
    certificates.push({
      name: index === 0 ? 'root' : `root-${index}`,
      subject: new X509Certificate(pem).subject.replace(/\n/g, ', '),
      serialNumber: facts.serialNumber,
      notBeforeMs: facts.notBefore.getTime(),
      notAfterMs: facts.notAfter.getTime(),
    });
  }
  return { certificates };
}

function summarizeRoot(pem: string): RootSummary {
  const certificate = new X509Certificate(pem);
  return {
    sha256: certificateSha256(certificate.raw),
    subject: certificate.subject.replace(/\n/g, ', '),
    notAfter: readCertificate(certificate.raw).notAfter.toISOString(),
  };
}
