import type { CaView, ScheduledAuthority } from './ca-view.ts';

/** `GET /v1/ca` and `weft ca status`: the roots, what each does now, and what needs attention. */
export interface CaStatus {
  readonly mode: 'generated' | 'plugged';
  readonly trustDomain: string;
  readonly trustBundleVersion: string | null;
  readonly authorities: readonly AuthorityStatus[];
  /** Said loudly, long before it bites (bad-inputs E14). */
  readonly warnings: readonly string[];
}

export interface AuthorityStatus {
  /** SHA-256 of the root certificate (the trust bundle names roots this way). */
  readonly rootSha256: string;
  readonly subject: string;
  readonly notAfter: string;
  /** `signing`: issues SVIDs now; `pending`: trusted, signs from `activatesAt`; `retiring`: trusted until `retiresAt`; `retired`. */
  readonly state: 'signing' | 'pending' | 'retiring' | 'retired';
  readonly activatesAt: string | null;
  readonly retiresAt: string | null;
}

/** Warn when the signing certificate has less than this left (Linkerd checks 60 days). */
const EXPIRY_WARNING_MS = 60 * 24 * 60 * 60 * 1000;

export function describeStatus(input: {
  readonly mode: 'generated' | 'plugged';
  readonly trustDomain: string;
  readonly schedule: readonly ScheduledAuthority[];
  readonly view: CaView;
  readonly nowMs: number;
  readonly svidTtlMs: number;
}): CaStatus {
  const { view, nowMs } = input;
  const warnings: string[] = [];
  const authorities = input.schedule.map((entry): AuthorityStatus => {
    const state =
      entry === view.signer
        ? 'signing'
        : entry.retiresAtMs !== undefined && entry.retiresAtMs <= nowMs
          ? 'retired'
          : entry.activatesAtMs > nowMs
            ? 'pending'
            : 'retiring';
    return {
      rootSha256: entry.authority.rootSha256,
      subject: entry.authority.certificate.subject.replace(/\n/g, ', '),
      notAfter: entry.authority.facts.notAfter.toISOString(),
      state,
      activatesAt: Number.isFinite(entry.activatesAtMs) ? new Date(entry.activatesAtMs).toISOString() : null,
      retiresAt: entry.retiresAtMs === undefined ? null : new Date(entry.retiresAtMs).toISOString(),
    };
  });
  const signer = view.signer;
  if (signer === undefined) {
    warnings.push('no CA certificate may sign now: every SVID request fails; rotate the CA (weft ca rotate)');
  } else {
    const leftMs = signer.authority.facts.notAfter.getTime() - nowMs;
    if (leftMs <= 0) {
      warnings.push(
        `the signing CA certificate expired at ${signer.authority.facts.notAfter.toISOString()}: no SVID can be issued; rotate the CA now (docs/ca.md, "Break glass")`,
      );
    } else if (leftMs < Math.max(EXPIRY_WARNING_MS, 2 * input.svidTtlMs)) {
      warnings.push(
        `the signing CA certificate expires at ${signer.authority.facts.notAfter.toISOString()} (in ${Math.floor(leftMs / 86_400_000)} days): rotate the CA before then (SVIDs are cut short to its expiry)`,
      );
    }
  }
  return {
    mode: input.mode,
    trustDomain: input.trustDomain,
    trustBundleVersion: view.bundle?.version ?? null,
    authorities,
    warnings,
  };
}
