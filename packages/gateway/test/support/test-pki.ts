/**
 * Certificates for the gateway tests, made with @weft/core's certificate builder (as the gRPC
 * tests' test CA is): a root per test PKI, server certificates for DNS names, client
 * certificates, and files laid out as the gateway reads them.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCertificate, distinguishedName, Oids, toPem, x509Extensions } from '@weft/core';

const HOUR_MS = 3_600_000;

export interface KeyAndCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TestPki {
  readonly caPem: string;
  /** A server certificate for these DNS names. */
  server(dnsNames: readonly string[]): KeyAndCertificate;
  /** A client certificate with these SANs (DNS names and URIs). */
  client(names: {
    readonly dnsNames?: readonly string[];
    readonly uris?: readonly string[];
  }): KeyAndCertificate;
}

export function createTestPki(label: string): TestPki {
  const nowMs = Date.now();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName([
    { type: 'O', value: 'weft gateway tests' },
    { type: 'CN', value: `${label} ${randomBytes(4).toString('hex')}` },
  ]);
  const rootDer = buildCertificate(
    {
      serialNumber: serial(),
      issuer: name,
      subject: name,
      notBefore: new Date(nowMs - HOUR_MS),
      notAfter: new Date(nowMs + 24 * HOUR_MS),
      publicKey,
      extensions: [
        x509Extensions.basicConstraints(true),
        x509Extensions.keyUsage(['keyCertSign', 'cRLSign']),
        x509Extensions.subjectKeyIdentifier(publicKey),
      ],
    },
    privateKey as KeyObject,
  );
  const issue = (
    names: { readonly dnsNames?: readonly string[]; readonly uris?: readonly string[] },
    usage: string,
  ): KeyAndCertificate => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = buildCertificate(
      {
        serialNumber: serial(),
        issuer: name,
        subject: distinguishedName([{ type: 'CN', value: names.dnsNames?.[0] ?? 'client' }]),
        notBefore: new Date(nowMs - 60_000),
        notAfter: new Date(nowMs + HOUR_MS),
        publicKey: keys.publicKey,
        extensions: [
          x509Extensions.basicConstraints(false),
          x509Extensions.keyUsage(['digitalSignature']),
          x509Extensions.subjectAltName(names, false),
          x509Extensions.extendedKeyUsage([usage]),
        ],
      },
      privateKey as KeyObject,
    );
    return {
      certPem: toPem(der, 'CERTIFICATE'),
      keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    };
  };
  return {
    caPem: toPem(rootDer, 'CERTIFICATE'),
    server: (dnsNames) => issue({ dnsNames }, Oids.serverAuth),
    client: (names) => issue(names, Oids.clientAuth),
  };
}

/** Writes `<dir>/<name>/tls.crt`, `tls.key` and, if given, `ca.crt`: a credentialName's directory. */
export function writeCredential(dir: string, name: string, pair: KeyAndCertificate, caPem?: string): string {
  const directory = join(dir, name);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'tls.crt'), pair.certPem);
  writeFileSync(join(directory, 'tls.key'), pair.keyPem);
  if (caPem !== undefined) writeFileSync(join(directory, 'ca.crt'), caPem);
  return directory;
}

function serial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes;
}
