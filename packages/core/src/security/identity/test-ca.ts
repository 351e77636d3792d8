/**
 * A certificate authority for tests and demos, made on the spot with Weft's own certificate builder
 * (EC P-256): SVIDs for any SPIFFE ID, the identity material a workload holds, and leaf
 * certificates for DNS names and URIs — what a test of a service over real TLS or mTLS needs,
 * including the mistakes (another trust domain, expired, DNS names only). Exported from
 * `@weft/core/testing`; nothing here is used by the mesh itself. The root is valid from an hour
 * before its creation to a day after; a leaf from a minute before to an hour after, unless told.
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { buildCertificate, distinguishedName, extensions } from '../x509/certificate-builder.ts';
import { Oids } from '../x509/oids.ts';
import { toPem } from '../x509/pem.ts';
import type { IdentityMaterial } from './identity-material.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export interface TestCaOptions {
  /** The root's organization (O); default the trust domain. */
  readonly organization?: string;
  /** The root's common name (CN), before a random suffix that keeps two roots apart; default `weft test root`. */
  readonly commonName?: string;
  /** The time validity is counted from; default now. */
  readonly nowMs?: number;
}

export interface TestLeafOptions {
  /** URI SANs; default the SPIFFE ID given to `issue`, if any. */
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  /** The subject's CN; without one the subject is empty and the SAN extension critical, as in an SVID. */
  readonly commonName?: string;
  /** Extended key usages (OIDs); default serverAuth and clientAuth, as in an SVID. */
  readonly extendedKeyUsage?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** A leaf certificate the test CA issued, with its private key. */
export interface TestLeaf {
  readonly pem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
  readonly certificate: X509Certificate;
}

export interface TestCa {
  readonly trustDomain: string;
  readonly rootPem: string;
  /** A leaf certificate with a fresh key: an SVID of `spiffeId` unless `options` give other names. */
  issue(spiffeId: string | undefined, options?: TestLeafOptions): TestLeaf;
  /** What a workload of `namespace`/`serviceAccount` holds: a fresh SVID, its key and this CA as bundle. */
  workload(namespace: string, serviceAccount: string, options?: TestLeafOptions): IdentityMaterial;
}

/** `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`, as text and unchecked (a test may want a bad one). */
export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function createTestCa(trustDomain = 'cluster.local', options: TestCaOptions = {}): TestCa {
  const nowMs = options.nowMs ?? Date.now();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName([
    { type: 'O', value: options.organization ?? trustDomain },
    { type: 'CN', value: `${options.commonName ?? 'weft test root'} ${randomBytes(4).toString('hex')}` },
  ]);
  const rootDer = buildCertificate(
    {
      serialNumber: randomSerial(),
      issuer: name,
      subject: name,
      notBefore: new Date(nowMs - HOUR_MS),
      notAfter: new Date(nowMs + 24 * HOUR_MS),
      publicKey,
      extensions: [
        extensions.basicConstraints(true),
        extensions.keyUsage(['keyCertSign', 'cRLSign']),
        extensions.subjectKeyIdentifier(publicKey),
      ],
    },
    privateKey,
  );
  const rootPem = toPem(rootDer, 'CERTIFICATE');
  const issue = (spiffeId: string | undefined, leaf: TestLeafOptions = {}): TestLeaf => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const subject =
      leaf.commonName === undefined
        ? Buffer.from([0x30, 0x00])
        : distinguishedName([{ type: 'CN', value: leaf.commonName }]);
    const der = buildCertificate(
      {
        serialNumber: randomSerial(),
        issuer: name,
        subject,
        notBefore: leaf.notBefore ?? new Date(nowMs - MINUTE_MS),
        notAfter: leaf.notAfter ?? new Date(nowMs + HOUR_MS),
        publicKey: keys.publicKey,
        extensions: [
          extensions.basicConstraints(false),
          extensions.keyUsage(['digitalSignature']),
          // RFC 5280 §4.2.1.6: the SAN extension is critical when the subject is empty.
          extensions.subjectAltName(
            {
              uris: leaf.uris ?? (spiffeId === undefined ? [] : [spiffeId]),
              dnsNames: leaf.dnsNames ?? [],
            },
            leaf.commonName === undefined,
          ),
          extensions.extendedKeyUsage(leaf.extendedKeyUsage ?? [Oids.serverAuth, Oids.clientAuth]),
        ],
      },
      privateKey,
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
    workload(namespace, serviceAccount, leaf) {
      const spiffeId = spiffeIdOf(trustDomain, namespace, serviceAccount);
      return identityMaterialOf(issue(spiffeId, leaf), spiffeId, trustDomain, [rootPem]);
    },
  };
}

/** The identity material of a workload holding `leaf` as `spiffeId` and trusting `roots`. */
export function identityMaterialOf(
  leaf: TestLeaf,
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

/** 16 random bytes, the top bit clear so that the DER INTEGER is positive (RFC 5280 §4.1.2.2). */
function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes;
}
