/**
 * Self-signed certificates for TLS between the two proxies of a sidecar pair (S3 with TLS), made
 * with openssl(1) at bench time into a directory the caller owns: a CA, a server certificate for
 * the server-side proxy, and a client certificate for the client-side proxy, so the hop is mutual
 * TLS as between two sidecars. ECDSA P-256 keys; valid for one day.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The name the server certificate is issued for; the client-side proxy checks it. */
export const SERVER_NAME = 'server.bench.local';

export interface TlsMaterial {
  readonly caFile: string;
  /** The server's certificate (PEM) and its key, for nginx. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** The client's certificate followed by its key in one PEM file, as haproxy's `crt` wants it. */
  readonly clientBundleFile: string;
  readonly serverName: string;
  /** `openssl version`, for the record. */
  readonly opensslVersion: string;
}

function openssl(args: readonly string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function issue(dir: string, name: string, subject: string, extensions: string): void {
  const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', ...keyArgs, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
}

/** Writes a CA, a server and a client certificate into `dir`; throws when openssl fails. */
export function makeTlsMaterial(dir: string): TlsMaterial {
  const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...keyArgs,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=weft-bench-ca',
    ],
    dir,
  );
  issue(
    dir,
    'server',
    `/CN=${SERVER_NAME}`,
    `subjectAltName=DNS:${SERVER_NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth`,
  );
  issue(dir, 'client', '/CN=client.bench.local', 'extendedKeyUsage=clientAuth');
  const clientBundleFile = join(dir, 'client-bundle.pem');
  writeFileSync(
    clientBundleFile,
    readFileSync(join(dir, 'client.pem'), 'utf8') + readFileSync(join(dir, 'client.key'), 'utf8'),
  );
  return {
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    clientBundleFile,
    serverName: SERVER_NAME,
    opensslVersion: openssl(['version'], dir).trim(),
  };
}
