/**
 * A certificate authority for the mTLS tests, built with @weft/core's certificate builder: SVIDs
 * for any SPIFFE ID (or another CA's, to be refused), and the identity material a workload holds,
 * which a test puts in the mesh's identity slot through a TestIdentity it can renew by hand.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import {
  buildCertificate,
  distinguishedName,
  type IdentityMaterial,
  type IdentitySource,
  Oids,
  toPem,
  x509Extensions,
} from '@weft/core';

const HOUR_MS = 3_600_000;

export interface TestCa {
  readonly trustDomain: string;
  readonly rootPem: string;
  /** Material for `spiffe://<td>/ns/<namespace>/sa/<serviceAccount>`: a fresh key and SVID, this CA as bundle. */
  workload(namespace: string, serviceAccount: string): IdentityMaterial;
}

export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function createTestCa(trustDomain = 'cluster.local'): TestCa {
  const nowMs = Date.now();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName([
    { type: 'O', value: trustDomain },
    { type: 'CN', value: `weft grpc test root ${randomBytes(4).toString('hex')}` },
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
  const rootPem = toPem(rootDer, 'CERTIFICATE');
  return {
    trustDomain,
    rootPem,
    workload(namespace, serviceAccount) {
      const spiffeId = spiffeIdOf(trustDomain, namespace, serviceAccount);
      const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const der = buildCertificate(
        {
          serialNumber: serial(),
          issuer: name,
          subject: Buffer.from([0x30, 0x00]),
          notBefore: new Date(nowMs - 60_000),
          notAfter: new Date(nowMs + HOUR_MS),
          publicKey: keys.publicKey,
          extensions: [
            x509Extensions.basicConstraints(false),
            x509Extensions.keyUsage(['digitalSignature']),
            x509Extensions.subjectAltName({ uris: [spiffeId], dnsNames: [] }, true),
            x509Extensions.extendedKeyUsage([Oids.serverAuth, Oids.clientAuth]),
          ],
        },
        privateKey as KeyObject,
      );
      const certificate = new X509Certificate(der);
      return {
        spiffeId,
        trustDomain,
        certChainPem: toPem(der, 'CERTIFICATE'),
        keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        trustBundlePem: [rootPem],
        trustBundleVersion: rootPem.length.toString(16),
        serialNumber: certificate.serialNumber.toLowerCase(),
        issuer: certificate.issuer,
        notBefore: new Date(certificate.validFrom),
        notAfter: new Date(certificate.validTo),
      };
    },
  };
}

/** An IdentitySource a test sets by hand: what connectToAgent's certificates are, without an agent. */
export class TestIdentity implements IdentitySource {
  #material: IdentityMaterial | undefined;
  readonly #listeners = new Set<(material: IdentityMaterial) => void>();

  constructor(material?: IdentityMaterial) {
    this.#material = material;
  }

  current(): IdentityMaterial | undefined {
    return this.#material;
  }

  onChange(listener: (material: IdentityMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A renewal: new material, listeners told. */
  set(material: IdentityMaterial): void {
    this.#material = material;
    for (const listener of this.#listeners) listener(material);
  }
}

function serial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes;
}
