/**
 * Certificates for the secure-ingress step, made on the spot as Istio's "Secure Gateways" task
 * makes them with openssl: a CA of "example Inc.", a server certificate for bookinfo.example.com
 * and client certificates for MUTUAL. `npm start` and the end-to-end test write them where the
 * gateway reads credentialName certificates (`--credentials-dir`), laid out as the keys of a
 * Kubernetes TLS secret.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCertificate, distinguishedName, Oids, toPem, x509Extensions } from '@weft/core';

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

/** A CA (EC P-256, valid one day) that issues leaf certificates for DNS names. */
export function createDemoCa(organization: string): DemoCa {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const nowMs = Date.now();
  const name = distinguishedName([
    { type: 'O', value: organization },
    { type: 'CN', value: `${organization} ${randomBytes(4).toString('hex')}` },
  ]);
  const certificate = (
    subject: Buffer,
    key: KeyObject,
    extensions: Parameters<typeof buildCertificate>[0]['extensions'],
  ): Buffer =>
    buildCertificate(
      {
        serialNumber: Buffer.concat([Buffer.from([0x01]), randomBytes(15)]),
        issuer: name,
        subject,
        notBefore: new Date(nowMs - 60_000),
        notAfter: new Date(nowMs + DAY_MS),
        publicKey: key,
        extensions,
      },
      privateKey,
    );
  const caDer = certificate(name, publicKey, [
    x509Extensions.basicConstraints(true),
    x509Extensions.keyUsage(['keyCertSign', 'cRLSign']),
    x509Extensions.subjectKeyIdentifier(publicKey),
  ]);
  return {
    caPem: toPem(caDer, 'CERTIFICATE'),
    issue(dnsName, usage) {
      const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const der = certificate(distinguishedName([{ type: 'CN', value: dnsName }]), leaf.publicKey, [
        x509Extensions.basicConstraints(false),
        x509Extensions.keyUsage(['digitalSignature']),
        x509Extensions.subjectAltName({ dnsNames: [dnsName] }, false),
        x509Extensions.extendedKeyUsage([usage]),
      ]);
      return {
        certPem: toPem(der, 'CERTIFICATE'),
        keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
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
