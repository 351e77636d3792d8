import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { algorithmIdentifier, signatureAlgorithmFor } from './certificate-builder.ts';
import { DerError, type DerLimits, encodingOf, expectSequence, isContextTag, readDer } from './der-reader.ts';
import { readBitString, readOid, readSmallInteger } from './der-values.ts';
import { der, encodeDer } from './der-writer.ts';
import { type ExtensionFacts, NO_EXTENSIONS, readExtensions } from './extension-reader.ts';
import { Oids } from './oids.ts';

/**
 * PKCS#10 certification requests (RFC 2986): built by workloads for the key they generated, read
 * and checked by the agent's CA. The request proves possession of the key (it is signed with it);
 * what identity it may get is decided elsewhere, never by what the request says.
 */

export interface CertificationRequestInput {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** URI SANs to ask for: an SVID's one SPIFFE ID. */
  readonly uris: readonly string[];
  readonly dnsNames?: readonly string[];
}

/** A DER CSR with an empty subject and the names as a (critical) SAN extension request. */
export function buildCertificationRequest(input: CertificationRequestInput): Buffer {
  const algorithm = signatureAlgorithmFor(input.privateKey);
  const entries = [
    ...(input.dnsNames ?? []).map((name) => der.implicitAscii(2, name)),
    ...input.uris.map((uri) => der.implicitAscii(6, uri)),
  ];
  const san = der.sequence([
    der.oid(Oids.subjectAltName),
    der.boolean(true),
    der.octetString(encodeDer(der.sequence(entries))),
  ]);
  const info = der.sequence([
    der.smallInteger(0),
    der.sequence([]),
    der.embed(input.publicKey.export({ type: 'spki', format: 'der' })),
    der.implicitConstructed(0, [
      der.sequence([der.oid(Oids.extensionRequest), der.set([der.sequence([san])])]),
    ]),
  ]);
  const infoDer = encodeDer(info);
  const signature = sign(algorithm.digest, infoDer, input.privateKey);
  return encodeDer(der.sequence([info, algorithmIdentifier(algorithm), der.bitString(signature)]));
}

export interface CertificationRequest extends ExtensionFacts {
  /** The requested key, whose possession the request's signature proved. */
  readonly publicKey: KeyObject;
  /** DER Name; SVID requests leave it empty. */
  readonly subject: Buffer;
  /** OIDs of attributes other than extensionRequest. */
  readonly otherAttributes: readonly string[];
}

/** A CSR is a few hundred bytes; these caps refuse anything that is not one before any work. */
export const CSR_LIMITS: DerLimits = Object.freeze({ maxBytes: 8 * 1024, maxDepth: 10, maxNodes: 256 });

const SIGNATURE_DIGESTS: Readonly<Record<string, { readonly digest: string; readonly keyType: string }>> = {
  [Oids.ecdsaWithSha256]: { digest: 'sha256', keyType: 'ec' },
  [Oids.ecdsaWithSha384]: { digest: 'sha384', keyType: 'ec' },
  [Oids.sha256WithRsa]: { digest: 'sha256', keyType: 'rsa' },
};

/**
 * Reads a DER CSR under `limits` and checks its self-signature with node:crypto over the exact
 * bytes that were signed. Throws DerError for anything malformed, oversized, or unsigned.
 */
export function readCertificationRequest(
  encoded: Uint8Array,
  limits: DerLimits = CSR_LIMITS,
): CertificationRequest {
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const request = expectSequence(readDer(bytes, limits), 'CertificationRequest', 3);
  const info = expectSequence(request.children[0], 'certificationRequestInfo', 4);
  const [version, subject, keyInfo, attributes] = info.children;
  if (readSmallInteger(bytes, version, 'certificationRequestInfo.version') !== 0) {
    throw new DerError('certificationRequestInfo.version: only version 1 (0) exists');
  }
  expectSequence(subject, 'certificationRequestInfo.subject', 0, 64);
  expectSequence(keyInfo, 'certificationRequestInfo.subjectPKInfo', 2);
  if (attributes === undefined || !isContextTag(attributes, 0) || !attributes.isConstructed) {
    throw new DerError('certificationRequestInfo.attributes: expected [0]');
  }
  const algorithm = expectSequence(request.children[1], 'signatureAlgorithm', 1, 2);
  const algorithmOid = readOid(bytes, algorithm.children[0], 'signatureAlgorithm');
  const expected = SIGNATURE_DIGESTS[algorithmOid];
  if (expected === undefined) throw new DerError(`signatureAlgorithm ${algorithmOid} is not accepted`);
  const signature = readBitString(bytes, request.children[2], 'signature');
  if (signature.unusedBits !== 0) throw new DerError('signature: not a whole number of bytes');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({
      key: encodingOf(bytes, keyInfo as NonNullable<typeof keyInfo>),
      format: 'der',
      type: 'spki',
    });
  } catch (error) {
    throw new DerError(`subjectPKInfo is not a public key node:crypto accepts: ${(error as Error).message}`);
  }
  if (publicKey.asymmetricKeyType !== expected.keyType) {
    throw new DerError(
      `signatureAlgorithm ${algorithmOid} does not fit a ${String(publicKey.asymmetricKeyType)} key`,
    );
  }
  // Checked over the bytes as received: a re-encoding could differ, and then it would be
  // something else that had been signed.
  const isSigned = verify(expected.digest, encodingOf(bytes, info), publicKey, signature.bytes);
  if (!isSigned) throw new DerError('the CSR is not signed by the key it carries');

  let extensions: ExtensionFacts = NO_EXTENSIONS;
  const otherAttributes: string[] = [];
  for (const [index, attribute] of attributes.children.entries()) {
    const entry = expectSequence(attribute, `attributes[${index}]`, 2);
    const type = readOid(bytes, entry.children[0], `attributes[${index}].type`);
    const values = entry.children[1];
    if (values === undefined || values.tagClass !== 'universal' || values.tagNumber !== 17) {
      throw new DerError(`attributes[${index}].values: expected a SET`);
    }
    if (type !== Oids.extensionRequest) {
      otherAttributes.push(type);
      continue;
    }
    if (extensions !== NO_EXTENSIONS || values.children.length !== 1) {
      throw new DerError('a CSR may carry one extensionRequest with one set of extensions');
    }
    extensions = readExtensions(bytes, values.children[0], 'extensionRequest');
  }
  return {
    ...extensions,
    publicKey,
    subject: Buffer.from(encodingOf(bytes, subject as NonNullable<typeof subject>)),
    otherAttributes,
  };
}
