import type { CertificateReportSlot } from '../admin/certificate-report.ts';
import type { ReadinessConditions } from '../admin/readiness.ts';
import type { IdentitySource } from '../security/identity/identity-material.ts';
import { certificateReportOf } from '../security/identity/identity-summary.ts';

/** What of the mesh an identity feeds: its /certs report and its readiness. */
interface IdentityConsumers {
  readonly certificateReport: CertificateReportSlot;
  readonly readiness: ReadinessConditions;
}

/**
 * Makes a workload identity visible: /certs and the certificate-expiry gauge read its SVID and
 * roots, and readiness gets a `certificate` condition, so a workload is not ready before its first
 * SVID (Istio's sidecar is not ready before it has its certificate) nor after it expired
 * unrenewed. The returned disposer detaches both. `nowMs` is wall-clock time, which certificate
 * validity is measured in.
 */
export function attachIdentity(
  mesh: IdentityConsumers,
  source: IdentitySource,
  nowMs: () => number = Date.now,
): () => void {
  const stopReport = mesh.certificateReport.provide(() => certificateReportOf(source.current()));
  const stopReadiness = mesh.readiness.add('certificate', () => {
    const material = source.current();
    if (material === undefined) return { isReady: false, detail: 'no workload certificate yet' };
    if (nowMs() >= material.notAfter.getTime()) {
      return {
        isReady: false,
        detail: `the certificate of ${material.spiffeId} expired at ${material.notAfter.toISOString()}`,
      };
    }
    return {
      isReady: true,
      detail: `${material.spiffeId}, valid until ${material.notAfter.toISOString()}`,
    };
  });
  return () => {
    stopReport();
    stopReadiness();
  };
}
