/**
 * The SVIDs bench/mtls.ts uses: a CA made at bench time with Weft's own certificate builder (as the
 * agent's CA is), and for the client (productpage) and the origin (reviews) an ECDSA P-256 SVID and
 * key, as identity material. Valid for a day; nothing is written to disk.
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import {
  buildCertificate,
  distinguishedName,
  type IdentityMaterial,
  Oids,
  toPem,
  x509Extensions,
} from '../../packages/core/src/index.ts';

const DAY_MS = 86_400_000;
const TRUST_DOMAIN = 'cluster.local';

export interface BenchIdentities {
  readonly client: IdentityMaterial;
  readonly origin: IdentityMaterial;
}

export function makeBenchIdentities(nowMs = Date.now()): BenchIdentities {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName([
    { type: 'O', value: TRUST_DOMAIN },
    { type: 'CN', value: 'weft bench root' },
  ]);
  const rootDer = buildCertificate(
    {
      serialNumber: serial(),
      issuer: name,
      subject: name,
      notBefore: new Date(nowMs - 60_000),
      notAfter: new Date(nowMs + DAY_MS),
      publicKey: ca.publicKey,
      extensions: [
        x509Extensions.basicConstraints(true),
        x509Extensions.keyUsage(['keyCertSign', 'cRLSign']),
        x509Extensions.subjectKeyIdentifier(ca.publicKey),
      ],
    },
    ca.privateKey,
  );
  const rootPem = toPem(rootDer, 'CERTIFICATE');
  const svid = (serviceAccount: string): IdentityMaterial => {
    const spiffeId = `spiffe://${TRUST_DOMAIN}/ns/default/sa/${serviceAccount}`;
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = buildCertificate(
      {
        serialNumber: serial(),
        issuer: name,
        subject: Buffer.from([0x30, 0x00]),
        notBefore: new Date(nowMs - 60_000),
        notAfter: new Date(nowMs + DAY_MS),
        publicKey: keys.publicKey,
        extensions: [
          x509Extensions.basicConstraints(false),
          x509Extensions.keyUsage(['digitalSignature']),
          x509Extensions.subjectAltName({ uris: [spiffeId], dnsNames: [] }, true),
          x509Extensions.extendedKeyUsage([Oids.serverAuth, Oids.clientAuth]),
        ],
      },
      ca.privateKey,
    );
    const certificate = new X509Certificate(der);
    return {
      spiffeId,
      trustDomain: TRUST_DOMAIN,
      certChainPem: toPem(der, 'CERTIFICATE'),
      keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      trustBundlePem: [rootPem],
      trustBundleVersion: 'bench',
      serialNumber: certificate.serialNumber.toLowerCase(),
      issuer: certificate.issuer,
      notBefore: new Date(certificate.validFrom),
      notAfter: new Date(certificate.validTo),
    };
  };
  return { client: svid('productpage'), origin: svid('reviews') };
}

function serial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes;
}
