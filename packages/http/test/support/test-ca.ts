/**
 * A certificate authority for the mTLS tests, built with Weft's own certificate builder: SVIDs for
 * any SPIFFE ID (or any mistake: another trust domain, expired, DNS names only), the identity
 * material a workload holds, and PEM files for DestinationRule origination settings.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCertificate,
  distinguishedName,
  type IdentityMaterial,
  Oids,
  toPem,
  x509Extensions,
} from '@weft/core';

const HOUR_MS = 3_600_000;

export interface LeafOptions {
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export interface Leaf {
  readonly pem: string;
  readonly keyPem: string;
  readonly certificate: X509Certificate;
}

export interface TestCa {
  readonly trustDomain: string;
  readonly rootPem: string;
  /** A leaf certificate with its key: an SVID of `spiffeId` unless `options` say other names. */
  issue(spiffeId: string | undefined, options?: LeafOptions): Leaf;
  /** What a workload of `namespace`/`serviceAccount` holds: a fresh SVID, its key and this CA as bundle. */
  workload(namespace: string, serviceAccount: string, options?: LeafOptions): IdentityMaterial;
}

export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function createTestCa(trustDomain = 'cluster.local'): TestCa {
  const nowMs = Date.now();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName([
    { type: 'O', value: trustDomain },
    { type: 'CN', value: `weft http test root ${randomBytes(4).toString('hex')}` },
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
    privateKey,
  );
  const rootPem = toPem(rootDer, 'CERTIFICATE');
  const issue = (spiffeId: string | undefined, options: LeafOptions = {}): Leaf => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = buildCertificate(
      {
        serialNumber: serial(),
        issuer: name,
        subject: Buffer.from([0x30, 0x00]),
        notBefore: options.notBefore ?? new Date(nowMs - 60_000),
        notAfter: options.notAfter ?? new Date(nowMs + HOUR_MS),
        publicKey: keys.publicKey,
        extensions: [
          x509Extensions.basicConstraints(false),
          x509Extensions.keyUsage(['digitalSignature']),
          x509Extensions.subjectAltName(
            {
              uris: options.uris ?? (spiffeId === undefined ? [] : [spiffeId]),
              dnsNames: options.dnsNames ?? [],
            },
            true,
          ),
          x509Extensions.extendedKeyUsage([Oids.serverAuth, Oids.clientAuth]),
        ],
      },
      privateKey as KeyObject,
    );
    return {
      pem: toPem(der, 'CERTIFICATE'),
      keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      certificate: new X509Certificate(der),
    };
  };
  return {
    trustDomain,
    rootPem,
    issue,
    workload(namespace, serviceAccount, options) {
      const spiffeId = spiffeIdOf(trustDomain, namespace, serviceAccount);
      return materialOf(issue(spiffeId, options), spiffeId, trustDomain, [rootPem]);
    },
  };
}

/** A workload's identity material from a leaf and the roots it trusts. */
export function materialOf(
  leaf: Leaf,
  spiffeId: string,
  trustDomain: string,
  roots: readonly string[],
): IdentityMaterial {
  return {
    spiffeId,
    trustDomain,
    certChainPem: leaf.pem,
    keyPem: leaf.keyPem,
    trustBundlePem: roots,
    trustBundleVersion: roots.join('').length.toString(16),
    serialNumber: leaf.certificate.serialNumber.toLowerCase(),
    issuer: leaf.certificate.issuer,
    notBefore: new Date(leaf.certificate.validFrom),
    notAfter: new Date(leaf.certificate.validTo),
  };
}

/** A temporary directory of PEM files (removed by `remove`). */
export interface PemFiles {
  write(name: string, pem: string): string;
  remove(): void;
}

export function pemFiles(): PemFiles {
  const dir = mkdtempSync(join(tmpdir(), 'weft-mtls-'));
  return {
    write(name, pem) {
      const path = join(dir, name);
      writeFileSync(path, pem);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function serial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes;
}
