import { arrayOf, record, text } from './json-fields.ts';

/**
 * `weft proxy-config secret`: the workload's SVID and trust bundle as its client reported them
 * (the `secret` section of its config dump), in the columns `istioctl proxy-config secret` uses:
 * one row for the certificate (`default`) and one per trusted root (`ROOTCA`).
 */
export function secretRows(dump: Readonly<Record<string, unknown>>): {
  readonly headers: readonly string[];
  readonly cells: readonly (readonly string[])[];
  readonly data: unknown;
} {
  const secret = record(dump.secret);
  const headers = ['RESOURCE', 'IDENTITY', 'STATUS', 'SERIAL NUMBER', 'NOT BEFORE', 'NOT AFTER', 'ISSUER'];
  if (dump.secret === undefined) {
    return { headers, cells: [], data: null };
  }
  const certificate = record(secret.certificate);
  const status = text(secret.state).toUpperCase();
  const cells: string[][] = [
    [
      'default',
      text(secret.spiffeId),
      status === '' ? '-' : status,
      text(certificate.serialNumber) || '-',
      text(certificate.notBefore) || '-',
      text(certificate.notAfter) || '-',
      text(certificate.issuer) || '-',
    ],
  ];
  for (const entry of arrayOf(secret.trustBundle)) {
    const root = record(entry);
    cells.push([
      'ROOTCA',
      text(root.subject),
      'TRUSTED',
      `sha256:${text(root.sha256).slice(0, 16)}…`,
      '-',
      text(root.notAfter),
      '-',
    ]);
  }
  return { headers, cells, data: secret };
}

/** Why there is nothing to show, for a client that reported no identity. */
export const NO_SECRET_NOTE =
  'the client reports no workload identity (it was connected without `identity`).\n';
