import { DerError, type DerNode, expectSequence, isContextTag, readDer } from './der-reader.ts';
import {
  bitIsSet,
  readAsciiText,
  readBitString,
  readBoolean,
  readOctetString,
  readOid,
  readSmallInteger,
} from './der-values.ts';
import { KeyUsageBits, type KeyUsageName, Oids } from './oids.ts';

/** The X.509 extensions Weft decides on, read from certificates and from CSRs' extension requests. */

export interface RawExtension {
  readonly oid: string;
  readonly isCritical: boolean;
  readonly value: Buffer;
}

export interface SubjectAltNames {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Names of any other type (email, directory name, otherName…): counted, not decoded. */
  readonly otherNames: number;
}

export interface BasicConstraints {
  readonly isCa: boolean;
  readonly pathLength?: number;
}

/** What a certificate's (or CSR's) extensions say, decoded. */
export interface ExtensionFacts {
  readonly extensions: readonly RawExtension[];
  readonly subjectAltNames: SubjectAltNames | undefined;
  readonly basicConstraints: BasicConstraints | undefined;
  readonly keyUsage: ReadonlySet<KeyUsageName> | undefined;
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** The subjectKeyIdentifier's bytes: what certificates this one issues name it by. */
  readonly subjectKeyIdentifier: Buffer | undefined;
}

export const NO_EXTENSIONS: ExtensionFacts = Object.freeze({
  extensions: [],
  subjectAltNames: undefined,
  basicConstraints: undefined,
  keyUsage: undefined,
  extendedKeyUsage: undefined,
  subjectKeyIdentifier: undefined,
});

/**
 * `Extensions ::= SEQUENCE OF Extension`. The same extension twice is refused (RFC 5280 §4.2):
 * two SAN extensions of one URI each would otherwise pass a "one URI SAN" check made on either.
 */
export function readExtensions(bytes: Uint8Array, node: DerNode | undefined, what: string): ExtensionFacts {
  const list = expectSequence(node, what, 0, Number.MAX_SAFE_INTEGER);
  const extensions: RawExtension[] = [];
  const seen = new Set<string>();
  for (const [index, child] of list.children.entries()) {
    const entry = expectSequence(child, `${what}[${index}]`, 2, 3);
    const oid = readOid(bytes, entry.children[0], `${what}[${index}].extnID`);
    const isCritical =
      entry.children.length === 3 && readBoolean(bytes, entry.children[1], `${what}[${index}].critical`);
    const value = readOctetString(
      bytes,
      entry.children[entry.children.length - 1],
      `${what}[${index}].extnValue`,
    );
    if (seen.has(oid)) throw new DerError(`${what}: extension ${oid} appears more than once`);
    seen.add(oid);
    extensions.push({ oid, isCritical, value });
  }
  const extensionValue = (oid: string): Buffer | undefined =>
    extensions.find((extension) => extension.oid === oid)?.value;
  const san = extensionValue(Oids.subjectAltName);
  const basic = extensionValue(Oids.basicConstraints);
  const usage = extensionValue(Oids.keyUsage);
  const extended = extensionValue(Oids.extKeyUsage);
  const keyId = extensionValue(Oids.subjectKeyIdentifier);
  return {
    extensions,
    subjectAltNames: san === undefined ? undefined : readSubjectAltNames(san),
    basicConstraints: basic === undefined ? undefined : readBasicConstraints(basic),
    keyUsage: usage === undefined ? undefined : readKeyUsage(usage),
    extendedKeyUsage: extended === undefined ? undefined : readExtendedKeyUsage(extended),
    subjectKeyIdentifier:
      keyId === undefined ? undefined : readOctetString(keyId, readDer(keyId), 'subjectKeyIdentifier'),
  };
}

export function readSubjectAltNames(value: Buffer): SubjectAltNames {
  const names = expectSequence(readDer(value), 'subjectAltName', 1, 1024);
  const uris: string[] = [];
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  let otherNames = 0;
  for (const name of names.children) {
    if (isContextTag(name, 6)) uris.push(readAsciiText(value, name, 'subjectAltName URI'));
    else if (isContextTag(name, 2)) dnsNames.push(readAsciiText(value, name, 'subjectAltName dNSName'));
    else if (isContextTag(name, 7) && !name.isConstructed)
      ipAddresses.push(formatIp(value.subarray(name.contentStart, name.end)));
    else otherNames += 1;
  }
  return { uris, dnsNames, ipAddresses, otherNames };
}

function readBasicConstraints(value: Buffer): BasicConstraints {
  const root = expectSequence(readDer(value), 'basicConstraints', 0, 2);
  let index = 0;
  let isCa = false;
  const first = root.children[0];
  if (first !== undefined && first.tagClass === 'universal' && first.tagNumber === 1) {
    isCa = readBoolean(value, first, 'basicConstraints.cA');
    index = 1;
  }
  const length = root.children[index];
  if (length === undefined) return { isCa };
  if (index + 1 !== root.children.length) throw new DerError('basicConstraints: unexpected element');
  return { isCa, pathLength: readSmallInteger(value, length, 'basicConstraints.pathLenConstraint') };
}

function readKeyUsage(value: Buffer): ReadonlySet<KeyUsageName> {
  const bits = readBitString(value, readDer(value), 'keyUsage');
  const usages = new Set<KeyUsageName>();
  for (const [name, bit] of Object.entries(KeyUsageBits) as [KeyUsageName, number][]) {
    if (bitIsSet(bits, bit)) usages.add(name);
  }
  return usages;
}

function readExtendedKeyUsage(value: Buffer): readonly string[] {
  const list = expectSequence(readDer(value), 'extKeyUsage', 1, 64);
  return list.children.map((child, index) => readOid(value, child, `extKeyUsage[${index}]`));
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let index = 0; index < 16; index += 2) groups.push(bytes.readUInt16BE(index).toString(16));
    return groups.join(':');
  }
  throw new DerError(`subjectAltName iPAddress of ${bytes.length} bytes`);
}
