import { type IpAddress, parseIpAddress } from './ip-address.ts';

/** A compiled list of addresses and CIDR blocks (`ipBlocks`, `source.ip` values, …). */
export interface IpBlockSet {
  contains(address: IpAddress): boolean;
}

interface Block {
  readonly address: IpAddress;
  readonly prefixLength: number;
}

/**
 * Compiles `10.1.2.3`, `10.0.0.0/8`, `2001:db8::/32`. An entry that is not an address or block
 * (the schema refuses those, so only a resource that bypassed it) is returned in `invalid`, for the
 * caller to fail closed on.
 */
export function compileIpBlocks(values: readonly string[]): {
  readonly set: IpBlockSet;
  readonly invalid: readonly string[];
} {
  const blocks: Block[] = [];
  const invalid: string[] = [];
  for (const value of values) {
    const block = parseBlock(value);
    if (block === undefined) invalid.push(value);
    else blocks.push(block);
  }
  const contains = (address: IpAddress): boolean => {
    for (const block of blocks) if (inBlock(block, address)) return true;
    return false;
  };
  return { set: { contains }, invalid };
}

function parseBlock(value: string): Block | undefined {
  const slash = value.indexOf('/');
  const address = parseIpAddress(slash === -1 ? value : value.slice(0, slash));
  if (address === undefined) return undefined;
  const isMapped = address.family === 4 && value.includes(':');
  const maxBits = address.family === 4 ? 32 : 128;
  if (slash === -1) return { address, prefixLength: maxBits };
  const bitsText = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return undefined;
  // `::ffff:10.0.0.0/104` is the IPv4 block 10.0.0.0/8.
  const bits = Number(bitsText) - (isMapped ? 96 : 0);
  if (bits < 0 || bits > maxBits) return undefined;
  return { address, prefixLength: bits };
}

function inBlock(block: Block, address: IpAddress): boolean {
  const network = block.address;
  if (network.family === 4) {
    if (address.family !== 4) return false;
    if (block.prefixLength === 0) return true;
    const shift = 32 - block.prefixLength;
    return network.value >>> shift === address.value >>> shift;
  }
  if (address.family !== 6) return false;
  let remaining = block.prefixLength;
  for (let i = 0; i < 4 && remaining > 0; i++) {
    const bits = Math.min(32, remaining);
    const shift = 32 - bits;
    const a = (network.words[i] ?? 0) >>> shift;
    const b = (address.words[i] ?? 0) >>> shift;
    if (a !== b) return false;
    remaining -= bits;
  }
  return true;
}
