import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { buildCertificate, distinguishedName, keyIdentifier, toPem, x509Extensions } from '@weft/core';

/** A new self-signed root, as PEM: what the agent generates on first start and on rotation. */
export interface GeneratedRoot {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/**
 * An ECDSA P-256 root for the trust domain: CA, may sign certificates (keyCertSign, cRLSign),
 * with a subject key identifier so that SVIDs can name it (authority key identifier). Its
 * subject carries the trust domain, its creation time and its key identifier, so that old and new
 * roots — present together in a bundle during a rotation — are told apart by name.
 */
export function generateRoot(trustDomain: string, nowMs: number, lifetimeMs: number): GeneratedRoot {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // The key identifier makes the name unique even for roots made in the same millisecond (two
  // agents rotating at once): chain building matches issuers by name first.
  const name = distinguishedName([
    { type: 'O', value: trustDomain },
    {
      type: 'CN',
      value: `Weft root CA ${new Date(nowMs).toISOString()} ${keyIdentifier(publicKey).toString('hex').slice(0, 8)}`,
    },
  ]);
  const serialNumber = randomBytes(16);
  serialNumber[0] = (serialNumber[0] as number) & 0x7f;
  const der = buildCertificate(
    {
      serialNumber,
      issuer: name,
      subject: name,
      notBefore: new Date(nowMs - 60_000),
      notAfter: new Date(nowMs + lifetimeMs),
      publicKey,
      extensions: [
        x509Extensions.basicConstraints(true),
        x509Extensions.keyUsage(['keyCertSign', 'cRLSign']),
        x509Extensions.subjectKeyIdentifier(publicKey),
      ],
    },
    privateKey,
  );
  return {
    certificatePem: toPem(der, 'CERTIFICATE'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
