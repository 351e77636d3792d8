/**
 * Where a terminating server's certificate, key and client CA live: the files its `tls` names
 * (`serverCertificate`, `privateKey`, `caCertificates`), or, for `credentialName`, a directory laid
 * out as a Kubernetes TLS secret's keys: `<credentialsDir>/<credentialName>/tls.crt`, `tls.key`,
 * `ca.crt`.
 */
import { join, resolve } from 'node:path';
import type { CertificateFiles } from '../servers/gateway-server.ts';

export interface ServerTlsPaths {
  readonly serverCertificate?: string | undefined;
  readonly privateKey?: string | undefined;
  readonly caCertificates?: string | undefined;
  readonly credentialName?: string | undefined;
}

/** A Kubernetes secret name (DNS-1123 subdomain): it becomes a directory name, so nothing else. */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** Istio accepts `kubernetes://name` for a secret in the Gateway's namespace. */
const KUBERNETES_PREFIX = 'kubernetes://';

export type CertificateFilesResult =
  | { readonly ok: true; readonly files: CertificateFiles }
  | { readonly ok: false; readonly field: string; readonly reason: string };

export function certificateFiles(
  tls: ServerTlsPaths,
  needsClientCa: boolean,
  credentialsDir: string | undefined,
): CertificateFilesResult {
  if (tls.credentialName !== undefined && tls.credentialName !== '') {
    const field = 'tls.credentialName';
    const name = tls.credentialName.startsWith(KUBERNETES_PREFIX)
      ? tls.credentialName.slice(KUBERNETES_PREFIX.length)
      : tls.credentialName;
    if (!SECRET_NAME.test(name) || name.includes('..')) {
      return {
        ok: false,
        field,
        reason: `"${tls.credentialName}" is not a secret name (lower-case letters, digits, "-" and "."), so it names no directory`,
      };
    }
    if (credentialsDir === undefined) {
      return {
        ok: false,
        field,
        reason: `credentialName "${name}" needs the gateway's credentialsDir option (--credentials-dir), where <dir>/${name}/tls.crt and tls.key are read`,
      };
    }
    const directory = join(resolve(credentialsDir), name);
    return {
      ok: true,
      files: {
        certificate: { field, path: join(directory, 'tls.crt') },
        privateKey: { field, path: join(directory, 'tls.key') },
        caCertificates: needsClientCa ? { field, path: join(directory, 'ca.crt') } : undefined,
      },
    };
  }
  // The schema already requires both files (and caCertificates for MUTUAL) without credentialName.
  if (tls.serverCertificate === undefined || tls.privateKey === undefined) {
    return {
      ok: false,
      field: 'tls',
      reason: 'no certificate: set serverCertificate and privateKey, or credentialName',
    };
  }
  if (needsClientCa && tls.caCertificates === undefined) {
    return {
      ok: false,
      field: 'tls.caCertificates',
      reason: 'client certificates need caCertificates to be verified against',
    };
  }
  return {
    ok: true,
    files: {
      certificate: { field: 'tls.serverCertificate', path: resolve(tls.serverCertificate) },
      privateKey: { field: 'tls.privateKey', path: resolve(tls.privateKey) },
      caCertificates:
        needsClientCa && tls.caCertificates !== undefined
          ? { field: 'tls.caCertificates', path: resolve(tls.caCertificates) }
          : undefined,
    },
  };
}
