import { EventChannel } from '../../events/event-channel.ts';
import type { IdentityMaterial } from './identity-material.ts';
import type { TrustBundle } from './trust-bundle.ts';

/** How a certificate was obtained: a join token (first issue, or after renewal was refused) or the current SVID. */
export type CertificateCredential = 'join-token' | 'renewal';

export interface CertificateIssuedEvent {
  readonly material: IdentityMaterial;
  readonly credential: CertificateCredential;
}

export interface CertificateRenewedEvent extends CertificateIssuedEvent {
  readonly previousSerialNumber: string;
}

export interface RenewalFailedEvent {
  readonly error: unknown;
  /** Consecutive failures, 1 for the first. */
  readonly attempt: number;
  /** When the next attempt is made (ms on the manager's clock from now). */
  readonly retryInMs: number;
}

/** Renewal keeps failing and the current certificate has little time left. */
export interface CertificateExpiringEvent {
  readonly material: IdentityMaterial;
  readonly remainingMs: number;
}

export interface TrustBundleEvent {
  readonly bundle: TrustBundle;
  readonly previousVersion: string | undefined;
}

export function workloadCertificateEvents() {
  return {
    /** The first SVID. */
    issued: new EventChannel<CertificateIssuedEvent>(),
    /** A new SVID replaced the previous one. */
    renewed: new EventChannel<CertificateRenewedEvent>(),
    renewalFailed: new EventChannel<RenewalFailedEvent>(),
    expiring: new EventChannel<CertificateExpiringEvent>(),
    /** The current SVID passed its notAfter without being renewed: peers will refuse it. */
    expired: new EventChannel<{ readonly material: IdentityMaterial }>(),
    /** A new trust bundle arrived (roots added or removed, or another signing root). */
    trustBundle: new EventChannel<TrustBundleEvent>(),
    /** The material changed, for any reason above: swap secure contexts on this. */
    changed: new EventChannel<IdentityMaterial>(),
  };
}

export type WorkloadCertificateEvents = ReturnType<typeof workloadCertificateEvents>;
