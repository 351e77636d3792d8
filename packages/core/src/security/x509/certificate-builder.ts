import { createHash, type KeyObject, sign } from 'node:crypto';
import { expectSequence, readDer } from './der-reader.ts';
import { readBitString } from './der-values.ts';
import { type Asn1Node, der, encodeDer } from './der-writer.ts';
import { KeyUsageBits, type KeyUsageName, Oids } from './oids.ts';

/**
 * Builds X.509 v3 certificates: the TBSCertificate encoded with node-forge's ASN.1 encoder, signed
 * with node:crypto (OpenSSL) using the issuer's key — ECDSA P-256/P-384 or RSA. This is how the
 * agent's CA issues SVIDs and makes its roots; tests use it to make the certificates a CA must
 * never issue (two URI SANs, a CA leaf, an expired one) to check that they are refused.
 */

export interface CertificateExtension {
  readonly oid: string;
  readonly isCritical: boolean;
  /** The DER of the extension's value (what goes inside extnValue's OCTET STRING). */
  readonly value: Uint8Array;
}

export interface CertificateTemplate {
  /** Positive, at most 20 bytes (RFC 5280 §4.1.2.2). */
  readonly serialNumber: Uint8Array;
  /** DER Name of the issuer: the issuing certificate's subject, byte for byte. */
  readonly issuer: Uint8Array;
  /** DER Name of the subject; an empty SEQUENCE for SVIDs (the identity is the URI SAN). */
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly extensions: readonly CertificateExtension[];
}

export interface SignatureAlgorithm {
  readonly oid: string;
  /** The digest node:crypto signs with; null for algorithms that hash internally (Ed25519). */
  readonly digest: string | null;
  /** RSA's AlgorithmIdentifier carries NULL parameters; ECDSA's carries none. */
  readonly hasNullParameters: boolean;
}

/** The signature algorithm an issuer key signs with. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1')
      return { oid: Oids.ecdsaWithSha256, digest: 'sha256', hasNullParameters: false };
    if (curve === 'secp384r1')
      return { oid: Oids.ecdsaWithSha384, digest: 'sha384', hasNullParameters: false };
    throw new RangeError(`an issuer key on curve ${String(curve)} is not supported (P-256 or P-384)`);
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new RangeError(`an RSA issuer key of ${bits} bits is too small (2048 or more)`);
    return { oid: Oids.sha256WithRsa, digest: 'sha256', hasNullParameters: true };
  }
  throw new RangeError(`an issuer key of type ${String(type)} is not supported (EC or RSA)`);
}

export function algorithmIdentifier(algorithm: SignatureAlgorithm): Asn1Node {
  return der.sequence([der.oid(algorithm.oid), ...(algorithm.hasNullParameters ? [der.null()] : [])]);
}

/** Encodes and signs; returns the certificate's DER. */
export function buildCertificate(template: CertificateTemplate, issuerKey: KeyObject): Buffer {
  const serial = Buffer.from(template.serialNumber);
  if (serial.length === 0 || serial.length > 20 || ((serial[0] as number) & 0x80) !== 0) {
    throw new RangeError('a serial number is 1 to 20 bytes and positive');
  }
  if (!(template.notBefore.getTime() < template.notAfter.getTime())) {
    throw new RangeError('notBefore must be before notAfter');
  }
  const algorithm = signatureAlgorithmFor(issuerKey);
  const extensionNodes = template.extensions.map((extension) =>
    der.sequence([
      der.oid(extension.oid),
      ...(extension.isCritical ? [der.boolean(true)] : []),
      der.octetString(extension.value),
    ]),
  );
  const tbs = der.sequence([
    der.explicit(0, der.smallInteger(2)), // v3
    der.integer(serial),
    algorithmIdentifier(algorithm),
    der.embed(template.issuer),
    der.sequence([der.time(template.notBefore), der.time(template.notAfter)]),
    der.embed(template.subject),
    der.embed(template.publicKey.export({ type: 'spki', format: 'der' })),
    ...(extensionNodes.length === 0 ? [] : [der.explicit(3, der.sequence(extensionNodes))]),
  ]);
  const tbsDer = encodeDer(tbs);
  const signature = sign(algorithm.digest, tbsDer, issuerKey);
  return encodeDer(der.sequence([tbs, algorithmIdentifier(algorithm), der.bitString(signature)]));
}

type NameAttribute = { readonly type: 'O' | 'CN'; readonly value: string };

/** A DER Name of UTF8String attributes, one per RDN, in order. */
export function distinguishedName(attributes: readonly NameAttribute[]): Buffer {
  return encodeDer(
    der.sequence(
      attributes.map((attribute) =>
        der.set([
          der.sequence([
            der.oid(attribute.type === 'O' ? Oids.organization : Oids.commonName),
            der.utf8(attribute.value),
          ]),
        ]),
      ),
    ),
  );
}

/**
 * A key identifier: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits (RFC 7093
 * §2 method 1), for the subject and authority key identifier extensions.
 */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const root = expectSequence(readDer(spki), 'SubjectPublicKeyInfo', 2);
  const bits = readBitString(spki, root.children[1], 'subjectPublicKey');
  return createHash('sha256').update(bits.bytes).digest().subarray(0, 20);
}

/** The extension values SVIDs and CA certificates carry. */
export const extensions = {
  basicConstraints(isCa: boolean, pathLength?: number): CertificateExtension {
    const fields = isCa
      ? [der.boolean(true), ...(pathLength === undefined ? [] : [der.smallInteger(pathLength)])]
      : [];
    return { oid: Oids.basicConstraints, isCritical: true, value: encodeDer(der.sequence(fields)) };
  },
  keyUsage(usages: readonly KeyUsageName[]): CertificateExtension {
    const bits = usages.map((usage) => KeyUsageBits[usage]);
    const highest = Math.max(...bits);
    const bytes = Buffer.alloc((highest >> 3) + 1);
    for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] as number) | (0x80 >> (bit & 7));
    // DER: the trailing zero bits of the last byte are "unused".
    const unusedBits = 7 - (highest & 7);
    return { oid: Oids.keyUsage, isCritical: true, value: encodeDer(der.bitString(bytes, unusedBits)) };
  },
  extendedKeyUsage(oids: readonly string[]): CertificateExtension {
    return { oid: Oids.extKeyUsage, isCritical: false, value: encodeDer(der.sequence(oids.map(der.oid))) };
  },
  /** Critical when the subject is empty, as RFC 5280 §4.2.1.6 requires (SVIDs). */
  subjectAltName(
    names: { readonly uris?: readonly string[]; readonly dnsNames?: readonly string[] },
    isCritical: boolean,
  ): CertificateExtension {
    const entries = [
      ...(names.dnsNames ?? []).map((name) => der.implicitAscii(2, name)),
      ...(names.uris ?? []).map((uri) => der.implicitAscii(6, uri)),
    ];
    return { oid: Oids.subjectAltName, isCritical, value: encodeDer(der.sequence(entries)) };
  },
  subjectKeyIdentifier(publicKey: KeyObject): CertificateExtension {
    return {
      oid: Oids.subjectKeyIdentifier,
      isCritical: false,
      value: encodeDer(der.octetString(keyIdentifier(publicKey))),
    };
  },
  /** Names the issuer by its subjectKeyIdentifier (which must be what the issuer carries). */
  authorityKeyIdentifier(issuerKeyId: Uint8Array): CertificateExtension {
    const value = encodeDer(der.sequence([der.implicitBytes(0, issuerKeyId)]));
    return { oid: Oids.authorityKeyIdentifier, isCritical: false, value };
  },
};
