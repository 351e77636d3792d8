import type { Disposer } from '../../events/event-channel.ts';

/**
 * What a workload needs to speak mTLS as itself: its SVID chain and key, and the roots it trusts.
 * Immutable: a renewal or a new trust bundle makes a new one. The key never leaves the process
 * (it is generated here and only its public half is sent, inside the CSR).
 */
export interface IdentityMaterial {
  /** `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`. */
  readonly spiffeId: string;
  readonly trustDomain: string;
  /** PEM: the SVID first, then any intermediates up to (not including) the root. */
  readonly certChainPem: string;
  /** PEM PKCS#8 private key of the SVID. */
  readonly keyPem: string;
  /** PEM roots of the trust bundle (several during a root rotation). */
  readonly trustBundlePem: readonly string[];
  readonly trustBundleVersion: string;
  /** The SVID's serial number, lower-case hex. */
  readonly serialNumber: string;
  /** The SVID's issuer, as node prints a distinguished name. */
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Something that holds a workload's current identity and says when it changes. */
export interface IdentitySource {
  /** The current material; undefined until the first SVID is issued. */
  current(): IdentityMaterial | undefined;
  /** Called with the new material after every renewal or trust-bundle change. */
  onChange(listener: (material: IdentityMaterial) => void): Disposer;
}
