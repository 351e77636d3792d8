/**
 * Certificates for the secure-ingress step, made on the spot as Istio's "Secure Gateways" task
 * makes them with openssl: a CA of "example Inc.", a server certificate for bookinfo.example.com
 * and client certificates for MUTUAL. `npm start` and the end-to-end test write them where the
 * gateway reads credentialName certificates (`--credentials-dir`), laid out as the keys of a
 * Kubernetes TLS secret.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Oids } from '@weft/core';
import { createTestCa } from '@weft/core/testing';

/** The host the secure-ingress YAMLs (istio/tasks/bookinfo-gateway-tls-*.yaml) serve. */
export const SECURE_INGRESS_HOST = 'bookinfo.example.com';
/** Their `credentialName`. */
export const SECURE_INGRESS_CREDENTIAL = 'bookinfo-credential';

export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface DemoCa {
  readonly caPem: string;
  issue(dnsName: string, usage: string): IssuedCertificate;
}

const DAY_MS = 86_400_000;

/** A CA (@weft/core's test CA: EC P-256, valid one day) that issues leaf certificates for DNS names. */
export function createDemoCa(organization: string): DemoCa {
  const nowMs = Date.now();
  const ca = createTestCa(undefined, { organization, commonName: organization, nowMs });
  return {
    caPem: ca.rootPem,
    issue(dnsName, usage) {
      const leaf = ca.issue(undefined, {
        dnsNames: [dnsName],
        commonName: dnsName,
        extendedKeyUsage: [usage],
        notAfter: new Date(nowMs + DAY_MS),
      });
      return { certPem: leaf.pem, keyPem: leaf.keyPem };
    },
  };
}

export interface SecureIngressFiles {
  /** What to pass as the gateway's `--credentials-dir`. */
  readonly credentialsDir: string;
  /** The CA a client trusts (and, for MUTUAL, the one its certificate must chain to). */
  readonly caFile: string;
  /** A client certificate and key from that CA, for MUTUAL. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly ca: DemoCa;
  readonly client: IssuedCertificate;
}

/**
 * Writes `<dir>/bookinfo-credential/{tls.crt,tls.key,ca.crt}` (server side) and
 * `<dir>/client.{crt,key}` (a client of MUTUAL), keys readable by the owner only.
 */
export async function writeSecureIngressFiles(dir: string): Promise<SecureIngressFiles> {
  const ca = createDemoCa('example Inc.');
  const server = ca.issue(SECURE_INGRESS_HOST, Oids.serverAuth);
  const client = ca.issue(`client.${SECURE_INGRESS_HOST}`, Oids.clientAuth);
  const credentialsDir = join(dir, 'credentials');
  const secret = join(credentialsDir, SECURE_INGRESS_CREDENTIAL);
  await mkdir(secret, { recursive: true, mode: 0o700 });
  await writeFile(join(secret, 'tls.crt'), server.certPem);
  await writeFile(join(secret, 'tls.key'), server.keyPem, { mode: 0o600 });
  await writeFile(join(secret, 'ca.crt'), ca.caPem);
  const clientCertFile = join(dir, 'client.crt');
  const clientKeyFile = join(dir, 'client.key');
  await writeFile(clientCertFile, client.certPem);
  await writeFile(clientKeyFile, client.keyPem, { mode: 0o600 });
  return { credentialsDir, caFile: join(secret, 'ca.crt'), clientCertFile, clientKeyFile, ca, client };
}
