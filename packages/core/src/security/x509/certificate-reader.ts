import { DerError, type DerLimits, encodingOf, expectSequence, isContextTag, readDer } from './der-reader.ts';
import { readBitString, readIntegerBytes, readOid, readSmallInteger, readTime } from './der-values.ts';
import { type ExtensionFacts, NO_EXTENSIONS, readExtensions } from './extension-reader.ts';

/**
 * A certificate's fields, decoded by Weft's own DER reader: what node:crypto's X509Certificate
 * does not give in a form one can decide on (it joins all SANs into one comma-separated string —
 * bad-inputs E6, CVE-2021-44532 — and does not show key usages at all). Signatures are not
 * checked here; node:crypto (X509Certificate.verify, TLS) does that.
 */
export interface CertificateFacts extends ExtensionFacts {
  readonly version: number;
  /** Lower-case hex, as `openssl x509 -serial` prints it (without leading zero bytes). */
  readonly serialNumber: string;
  readonly signatureAlgorithm: string;
  /** DER of the issuer and subject Names, exactly as encoded. */
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKey: Buffer;
}

/** Certificates of a few KiB nest about 8 deep; these caps leave room and nothing more. */
const CERTIFICATE_LIMITS: DerLimits = { maxBytes: 32 * 1024, maxDepth: 12, maxNodes: 2_048 };

export function readCertificate(encoded: Uint8Array): CertificateFacts {
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const certificate = expectSequence(readDer(bytes, CERTIFICATE_LIMITS), 'Certificate', 3);
  const tbs = expectSequence(certificate.children[0], 'tbsCertificate', 6, 10);
  readBitString(bytes, certificate.children[2], 'signatureValue');
  const fields = [...tbs.children];
  let version = 1;
  if (isContextTag(fields[0], 0)) {
    const explicit = fields.shift() as (typeof fields)[number];
    if (explicit.children.length !== 1) throw new DerError('tbsCertificate.version: malformed');
    version = readSmallInteger(bytes, explicit.children[0], 'tbsCertificate.version') + 1;
  }
  const [serial, signature, issuer, validity, subject, publicKey, ...optional] = fields;
  const serialBytes = readIntegerBytes(bytes, serial, 'tbsCertificate.serialNumber');
  const algorithm = expectSequence(signature, 'tbsCertificate.signature', 1, 2);
  const outer = expectSequence(certificate.children[1], 'signatureAlgorithm', 1, 2);
  if (!encodingOf(bytes, algorithm).equals(encodingOf(bytes, outer))) {
    throw new DerError('the signature algorithm inside the certificate differs from the outer one');
  }
  const times = expectSequence(validity, 'tbsCertificate.validity', 2);
  expectSequence(issuer, 'tbsCertificate.issuer', 0, 64);
  expectSequence(subject, 'tbsCertificate.subject', 0, 64);
  expectSequence(publicKey, 'tbsCertificate.subjectPublicKeyInfo', 2);
  let extensionList: (typeof fields)[number] | undefined;
  for (const field of optional) {
    if (isContextTag(field, 1) || isContextTag(field, 2)) continue; // unique identifiers (v2)
    if (isContextTag(field, 3) && extensionList === undefined && field.children.length === 1) {
      extensionList = field.children[0];
      continue;
    }
    throw new DerError('tbsCertificate: unexpected field after subjectPublicKeyInfo');
  }
  if (extensionList !== undefined && version !== 3)
    throw new DerError('extensions in a certificate that is not v3');
  const extensionFacts =
    extensionList === undefined ? NO_EXTENSIONS : readExtensions(bytes, extensionList, 'extensions');
  return {
    version,
    serialNumber: hexWithoutLeadingZeros(serialBytes),
    signatureAlgorithm: readOid(bytes, algorithm.children[0], 'signatureAlgorithm'),
    issuer: Buffer.from(encodingOf(bytes, issuer as NonNullable<typeof issuer>)),
    subject: Buffer.from(encodingOf(bytes, subject as NonNullable<typeof subject>)),
    notBefore: readTime(bytes, times.children[0], 'validity.notBefore'),
    notAfter: readTime(bytes, times.children[1], 'validity.notAfter'),
    publicKey: Buffer.from(encodingOf(bytes, publicKey as NonNullable<typeof publicKey>)),
    ...extensionFacts,
  };
}

function hexWithoutLeadingZeros(bytes: Buffer): string {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return bytes.subarray(start).toString('hex');
}
