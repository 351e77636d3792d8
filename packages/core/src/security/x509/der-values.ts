import { contentOf, DerError, type DerNode, expectUniversal } from './der-reader.ts';

/**
 * The primitive values of X.509, decoded strictly from DER elements read by `readDer`. Each
 * refuses what DER forbids (non-minimal integers, booleans other than 00/FF, non-zero padding
 * bits) and what X.509 never needs (OIDs of more than 32 arcs, arcs past 2^53, control characters
 * in names), so a value has one reading only.
 */

const MAX_OID_BYTES = 64;
const MAX_OID_ARCS = 32;

export function readOid(bytes: Uint8Array, node: DerNode | undefined, what: string): string {
  const content = contentOf(bytes, expectUniversal(node, 6, what));
  if (content.length === 0 || content.length > MAX_OID_BYTES) {
    throw new DerError(`${what}: an OBJECT IDENTIFIER of ${content.length} bytes`);
  }
  const arcs: string[] = [];
  let value = 0;
  let isStart = true;
  for (const byte of content) {
    if (isStart && byte === 0x80) throw new DerError(`${what}: non-minimal OBJECT IDENTIFIER arc`);
    isStart = false;
    value = value * 128 + (byte & 0x7f);
    // Arcs past 2^53 would lose precision as numbers (node-forge CVE-2025-66030 truncated them).
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError(`${what}: OBJECT IDENTIFIER arc too large`);
    if ((byte & 0x80) !== 0) continue;
    if (arcs.length === 0) {
      const first = value < 40 ? 0 : value < 80 ? 1 : 2;
      arcs.push(String(first), String(value - first * 40));
    } else {
      arcs.push(String(value));
    }
    if (arcs.length > MAX_OID_ARCS) throw new DerError(`${what}: OBJECT IDENTIFIER has too many arcs`);
    value = 0;
    isStart = true;
  }
  if (!isStart) throw new DerError(`${what}: truncated OBJECT IDENTIFIER`);
  return arcs.join('.');
}

/** An INTEGER's two's-complement bytes, checked to be minimal. */
export function readIntegerBytes(bytes: Uint8Array, node: DerNode | undefined, what: string): Buffer {
  const content = contentOf(bytes, expectUniversal(node, 2, what));
  if (content.length === 0) throw new DerError(`${what}: empty INTEGER`);
  if (content.length > 1) {
    const [first, second] = [content[0] as number, content[1] as number];
    if ((first === 0x00 && second < 0x80) || (first === 0xff && second >= 0x80)) {
      throw new DerError(`${what}: non-minimal INTEGER`);
    }
  }
  return content;
}

/** A small non-negative INTEGER (versions, path lengths). */
export function readSmallInteger(bytes: Uint8Array, node: DerNode | undefined, what: string): number {
  const content = readIntegerBytes(bytes, node, what);
  if (content.length > 4 || ((content[0] as number) & 0x80) !== 0) {
    throw new DerError(`${what}: INTEGER out of range`);
  }
  return content.reduce((value, byte) => value * 256 + byte, 0);
}

export function readBoolean(bytes: Uint8Array, node: DerNode | undefined, what: string): boolean {
  const content = contentOf(bytes, expectUniversal(node, 1, what));
  if (content.length !== 1 || (content[0] !== 0x00 && content[0] !== 0xff)) {
    throw new DerError(`${what}: a DER BOOLEAN is one byte, 00 or FF`);
  }
  return content[0] === 0xff;
}

export interface BitString {
  readonly bytes: Buffer;
  readonly unusedBits: number;
}

export function readBitString(bytes: Uint8Array, node: DerNode | undefined, what: string): BitString {
  const content = contentOf(bytes, expectUniversal(node, 3, what));
  const unusedBits = content[0];
  if (unusedBits === undefined || unusedBits > 7 || (content.length === 1 && unusedBits !== 0)) {
    throw new DerError(`${what}: malformed BIT STRING`);
  }
  const data = content.subarray(1);
  const last = data[data.length - 1];
  if (last !== undefined && (last & ((1 << unusedBits) - 1)) !== 0) {
    throw new DerError(`${what}: BIT STRING padding bits are not zero`);
  }
  return { bytes: data, unusedBits };
}

/** Bit `index` (0 = the most significant bit of the first byte), as KeyUsage numbers them. */
export function bitIsSet(bits: BitString, index: number): boolean {
  const byte = bits.bytes[index >> 3];
  return byte !== undefined && (byte & (0x80 >> (index & 7))) !== 0;
}

export function readOctetString(bytes: Uint8Array, node: DerNode | undefined, what: string): Buffer {
  return contentOf(bytes, expectUniversal(node, 4, what));
}

/**
 * Text of an IA5String, or of an implicitly tagged one (GeneralName's `[1]`, `[2]`, `[6]`):
 * printable ASCII only. A NUL or other control character in a name is how SAN spoofing works
 * (a certificate for `good.example\0.evil.example`), so it is refused rather than kept.
 */
export function readAsciiText(bytes: Uint8Array, node: DerNode, what: string): string {
  if (node.isConstructed) throw new DerError(`${what}: expected a primitive string`);
  const content = contentOf(bytes, node);
  for (const byte of content) {
    if (byte < 0x20 || byte > 0x7e)
      throw new DerError(`${what}: contains a non-printable byte 0x${byte.toString(16)}`);
  }
  return content.toString('latin1');
}

/** UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`), as RFC 5280 §4.1.2.5 allows. */
export function readTime(bytes: Uint8Array, node: DerNode | undefined, what: string): Date {
  if (
    node === undefined ||
    node.tagClass !== 'universal' ||
    (node.tagNumber !== 23 && node.tagNumber !== 24)
  ) {
    throw new DerError(`${what}: expected UTCTime or GeneralizedTime`);
  }
  const text = contentOf(bytes, node).toString('latin1');
  const match = node.tagNumber === 23 ? /^(\d{2})(\d{10})Z$/.exec(text) : /^(\d{4})(\d{10})Z$/.exec(text);
  if (match === null) throw new DerError(`${what}: malformed time "${text}"`);
  const yearText = match[1] as string;
  const year =
    node.tagNumber === 23 ? (Number(yearText) >= 50 ? 1900 : 2000) + Number(yearText) : Number(yearText);
  const rest = match[2] as string;
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((at) => Number(rest.slice(at, at + 2)));
  const date = new Date(Date.UTC(year, (month as number) - 1, day, hour, minute, second));
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== (month as number) - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second
  ) {
    throw new DerError(`${what}: impossible time "${text}"`);
  }
  return date;
}
