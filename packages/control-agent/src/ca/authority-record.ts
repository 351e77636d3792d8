import { X509Certificate } from 'node:crypto';
import { readPemBlock } from '@weft/core';
import type { ScheduledAuthority } from './ca-view.ts';
import { CaMaterialError, loadSigningAuthority } from './signing-authority.ts';

/** The record (see RecordStore) where a generated CA lives, shared by every agent on the store. */
export const AUTHORITY_RECORD = 'ca/authority';
const FORMAT = 'weft-ca/1';

/**
 * A generated CA as stored: its roots, oldest first, each with when it starts signing and when
 * it leaves the trust bundle. Private keys are in it: the store must be protected as the CA is
 * (etcd with TLS and authentication, or a data directory only the agent can read).
 */
export interface AuthorityRecordValue {
  readonly format: typeof FORMAT;
  readonly trustDomain: string;
  readonly authorities: readonly AuthorityEntry[];
}

export interface AuthorityEntry {
  /** PEM self-signed root. */
  readonly certificate: string;
  /** PEM PKCS#8. */
  readonly privateKey: string;
  /** RFC 3339: from then on new SVIDs are signed by this root (the newest active one signs). */
  readonly activatesAt: string;
  /** RFC 3339: from then on it is no longer trusted; null while it is the current root. */
  readonly retiresAt: string | null;
}

export function authorityRecord(
  trustDomain: string,
  authorities: readonly AuthorityEntry[],
): AuthorityRecordValue {
  return { format: FORMAT, trustDomain, authorities };
}

/** Reads a stored record back, loading and checking every root and key in it. */
export function readAuthorityRecord(value: unknown): {
  readonly trustDomain: string;
  readonly entries: readonly AuthorityEntry[];
  readonly schedule: readonly ScheduledAuthority[];
} {
  const record = value as Partial<AuthorityRecordValue> | null;
  if (
    record === null ||
    typeof record !== 'object' ||
    record.format !== FORMAT ||
    typeof record.trustDomain !== 'string' ||
    !Array.isArray(record.authorities) ||
    record.authorities.length === 0
  ) {
    throw new CaMaterialError(`the stored CA record ${AUTHORITY_RECORD} is not a ${FORMAT} record`);
  }
  const schedule = record.authorities.map((entry, index): ScheduledAuthority => {
    const what = `stored root ${index}`;
    const activatesAtMs = Date.parse(String(entry?.activatesAt));
    const retiresAtMs = entry?.retiresAt === null ? undefined : Date.parse(String(entry?.retiresAt));
    if (Number.isNaN(activatesAtMs) || (retiresAtMs !== undefined && Number.isNaN(retiresAtMs))) {
      throw new CaMaterialError(`${what} has malformed activatesAt/retiresAt`);
    }
    let root: X509Certificate;
    try {
      root = new X509Certificate(readPemBlock(String(entry.certificate), 'CERTIFICATE'));
    } catch (error) {
      throw new CaMaterialError(`${what} is not a PEM certificate: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const authority = loadSigningAuthority({
      certificatePem: String(entry.certificate),
      keyPem: String(entry.privateKey),
      roots: [root],
      what,
    });
    return { authority, activatesAtMs, retiresAtMs };
  });
  return { trustDomain: record.trustDomain, entries: record.authorities, schedule };
}
