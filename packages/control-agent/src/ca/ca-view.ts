import type { X509Certificate } from 'node:crypto';
import { certificateSha256, type TrustBundle, trustBundleVersion } from '@weft/core';
import type { SigningAuthority } from './signing-authority.ts';

/** A CA certificate with the times it starts signing and stops being trusted (wall-clock ms). */
export interface ScheduledAuthority {
  readonly authority: SigningAuthority;
  readonly activatesAtMs: number;
  /** Undefined while it is meant to stay. */
  readonly retiresAtMs: number | undefined;
}

/** What the CA does at one instant. */
export interface CaView {
  /** The authority new SVIDs are signed by: the newest active one. Undefined if none is active. */
  readonly signer: ScheduledAuthority | undefined;
  /** Authorities whose roots are trusted: every one not yet retired, pending ones included. */
  readonly trusted: readonly ScheduledAuthority[];
  readonly bundle: TrustBundle | undefined;
}

/**
 * The CA at `nowMs`: a rotation is a schedule, not a sequence of writes to remember (bad-inputs
 * E13). A new root is trusted as soon as it is added (prepare), signs from `activatesAtMs`
 * (activate), and the old one stays trusted until its `retiresAtMs` (after every SVID it signed
 * has expired). Pure: every agent reading the same record computes the same view.
 */
export function viewAt(
  trustDomain: string,
  schedule: readonly ScheduledAuthority[],
  extraRoots: readonly X509Certificate[],
  nowMs: number,
): CaView {
  const trusted = schedule.filter((entry) => entry.retiresAtMs === undefined || entry.retiresAtMs > nowMs);
  const active = trusted.filter((entry) => entry.activatesAtMs <= nowMs);
  const signer = active[active.length - 1];
  const roots = new Map<string, X509Certificate>();
  for (const root of extraRoots) roots.set(certificateSha256(root.raw), root);
  for (const entry of trusted) roots.set(entry.authority.rootSha256, entry.authority.root);
  if (signer === undefined || roots.size === 0) return { signer, trusted, bundle: undefined };
  const fingerprints = [...roots.keys()];
  return {
    signer,
    trusted,
    bundle: Object.freeze({
      trustDomain,
      roots: Object.freeze([...roots.values()].map((root) => root.toString())),
      signingRootSha256: signer.authority.rootSha256,
      version: trustBundleVersion(fingerprints, signer.authority.rootSha256),
    }),
  };
}
