import forge from 'node-forge';
import { readDer } from './der-reader.ts';

/**
 * DER encoding with node-forge's ASN.1 encoder, behind Buffers (forge speaks binary strings).
 * Weft builds certificates and CSRs with it and signs them with node:crypto: node-forge's `pki`
 * cannot hold the ECDSA P-256 keys workloads use, and its RSA verifier has a history of forgery
 * bugs, so it is used for encoding only — never to decode untrusted input (that is der-reader.ts)
 * nor to sign or verify.
 */

const { asn1 } = forge;
const { Class, Type } = asn1;

export type Asn1Node = forge.asn1.Asn1;

const binary = (bytes: Uint8Array): string => Buffer.from(bytes).toString('binary');

export function encodeDer(node: Asn1Node): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

export const der = {
  sequence: (items: readonly Asn1Node[]): Asn1Node =>
    asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, [...items]),
  set: (items: readonly Asn1Node[]): Asn1Node => asn1.create(Class.UNIVERSAL, Type.SET, true, [...items]),
  oid: (oid: string): Asn1Node =>
    asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(oid).getBytes()),
  null: (): Asn1Node => asn1.create(Class.UNIVERSAL, Type.NULL, false, ''),
  boolean: (value: boolean): Asn1Node =>
    asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, value ? '\xff' : '\x00'),
  /** An INTEGER from its two's-complement bytes, made minimal. */
  integer(bytes: Uint8Array): Asn1Node {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0 && ((bytes[start + 1] as number) & 0x80) === 0) {
      start += 1;
    }
    return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, binary(bytes.subarray(start)));
  },
  smallInteger(value: number): Asn1Node {
    if (!Number.isSafeInteger(value) || value < 0 || value > 0x7fff_ffff) {
      throw new RangeError(`smallInteger: ${value} is out of range`);
    }
    const bytes: number[] = [];
    let rest = value;
    do {
      bytes.unshift(rest & 0xff);
      rest = Math.floor(rest / 256);
    } while (rest > 0);
    if (((bytes[0] as number) & 0x80) !== 0) bytes.unshift(0);
    return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, String.fromCharCode(...bytes));
  },
  bitString: (bytes: Uint8Array, unusedBits = 0): Asn1Node =>
    asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, String.fromCharCode(unusedBits) + binary(bytes)),
  octetString: (bytes: Uint8Array): Asn1Node =>
    asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, binary(bytes)),
  utf8: (text: string): Asn1Node =>
    asn1.create(Class.UNIVERSAL, Type.UTF8, false, binary(Buffer.from(text, 'utf8'))),
  /** `[tagNumber] IMPLICIT IA5String`, as GeneralName's dNSName [2] and uniformResourceIdentifier [6]. */
  implicitAscii: (tagNumber: number, text: string): Asn1Node =>
    asn1.create(Class.CONTEXT_SPECIFIC, tagNumber, false, binary(Buffer.from(text, 'latin1'))),
  /** `[tagNumber] IMPLICIT OCTET STRING` (AuthorityKeyIdentifier's keyIdentifier [0]). */
  implicitBytes: (tagNumber: number, bytes: Uint8Array): Asn1Node =>
    asn1.create(Class.CONTEXT_SPECIFIC, tagNumber, false, binary(bytes)),
  /** `[tagNumber] EXPLICIT` around one element. */
  explicit: (tagNumber: number, node: Asn1Node): Asn1Node =>
    asn1.create(Class.CONTEXT_SPECIFIC, tagNumber, true, [node]),
  /** `[tagNumber] IMPLICIT SET/SEQUENCE OF` (a CSR's attributes [0]). */
  implicitConstructed: (tagNumber: number, items: readonly Asn1Node[]): Asn1Node =>
    asn1.create(Class.CONTEXT_SPECIFIC, tagNumber, true, [...items]),
  /** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
  time(date: Date): Asn1Node {
    const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
    return whole.getUTCFullYear() < 2050
      ? asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, asn1.dateToUtcTime(whole))
      : asn1.create(Class.UNIVERSAL, Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(whole));
  },
  /**
   * An already-encoded element, to nest in a new structure: a public key exported by node:crypto,
   * or a CA certificate's subject name. It is checked with readDer first (so forge's decoder only
   * ever sees input that is valid, shallow DER), and must come back byte-identical.
   */
  embed(encoded: Uint8Array): Asn1Node {
    readDer(encoded);
    const fromDer = asn1.fromDer as unknown as (bytes: string, options: object) => Asn1Node;
    const node = fromDer(binary(encoded), {
      strict: true,
      parseAllBytes: true,
      decodeBitStrings: false,
      maxDepth: 16,
    });
    if (!encodeDer(node).equals(Buffer.from(encoded))) {
      throw new RangeError('der.embed: the element does not re-encode to the same bytes');
    }
    return node;
  },
};
