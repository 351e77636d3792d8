import { isIPv4, isIPv6 } from 'node:net';

/**
 * An IP address as numbers, for CIDR matching without string games. IPv4-mapped IPv6 addresses
 * (`::ffff:10.1.2.3`, what a dual-stack Node server reports for an IPv4 client) are IPv4: if they
 * were not, `ipBlocks: ["10.0.0.0/8"]` would never match them, and a DENY would be bypassed.
 */
export type IpAddress =
  | { readonly family: 4; readonly value: number }
  | { readonly family: 6; readonly words: readonly [number, number, number, number] };

/** Parses an address (an IPv6 zone `%eth0` is dropped); undefined when it is not one. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(address)) return undefined;
  const words = ipv6Words(address);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return { family: 4, value: words[3] };
  return { family: 6, words };
}

/** A dotted quad as a number, for text isIPv4 accepted; parsed in place, without splitting. */
function ipv4Value(text: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e) {
      value = value * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (code - 0x30);
    }
  }
  return value * 256 + octet;
}

/** Four 32-bit words of a valid IPv6 address (checked by isIPv6 first). */
function ipv6Words(text: string): [number, number, number, number] {
  const groups = new Array<number>(8).fill(0);
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const pieces = part.split(':');
    const last = pieces[pieces.length - 1] ?? '';
    if (!last.includes('.')) return pieces.map((piece) => Number.parseInt(piece, 16));
    const v4 = ipv4Value(last);
    return [...pieces.slice(0, -1).map((piece) => Number.parseInt(piece, 16)), v4 >>> 16, v4 & 0xffff];
  };
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  front.forEach((group, index) => {
    groups[index] = group;
  });
  back.forEach((group, index) => {
    groups[8 - back.length + index] = group;
  });
  const word = (i: number) => (((groups[i] ?? 0) << 16) | (groups[i + 1] ?? 0)) >>> 0;
  return [word(0), word(2), word(4), word(6)];
}
