import type { Disposer } from '../events/event-channel.ts';

/** One certificate the workload holds (its SVID, the roots it trusts), as /certs shows it. */
export interface CertificateSummary {
  /** What it is to the workload: `workload`, `root`, `root-previous`, ... */
  readonly name: string;
  readonly spiffeId?: string;
  readonly subject?: string;
  readonly serialNumber?: string;
  /** Validity, Unix time in ms. */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export interface CertificateReport {
  readonly certificates: readonly CertificateSummary[];
}

/**
 * Where the workload's certificates are read from, for /certs and the certificate-expiry gauge.
 * The identity (certificate manager) provides the source; until it does, there is nothing.
 */
export class CertificateReportSlot {
  #source: (() => CertificateReport) | undefined;

  /** Sets the source; the disposer clears it (if it is still this one). */
  provide(source: () => CertificateReport): Disposer {
    this.#source = source;
    return () => {
      if (this.#source === source) this.#source = undefined;
    };
  }

  /** The current report, or undefined when no identity provides one. */
  read(): CertificateReport | undefined {
    return this.#source?.();
  }
}
