import { DerError } from './der-reader.ts';

/** PEM (RFC 7468) for certificates and CSRs: strict base64, one label, bounded. */

export type PemLabel = 'CERTIFICATE' | 'CERTIFICATE REQUEST';

export function toPem(der: Uint8Array, label: PemLabel): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;

/**
 * The DER of every `label` block in `text`, in order. Text between blocks (what `openssl x509`
 * prints above a certificate) is ignored; a block with another label, a BEGIN without its END,
 * or base64 that does not decode exactly is refused, as is more than `maxBlocks` blocks.
 */
export function readPemBlocks(text: string, label: PemLabel, maxBlocks = 16): Buffer[] {
  const blocks: Buffer[] = [];
  let begins = 0;
  for (let at = text.indexOf('-----BEGIN '); at !== -1; at = text.indexOf('-----BEGIN ', at + 1)) begins += 1;
  for (const match of text.matchAll(BLOCK)) {
    const [, begin, body = '', end] = match;
    if (begin !== end) throw new DerError(`PEM block BEGIN ${begin} ends with END ${end}`);
    if (begin !== label) throw new DerError(`expected PEM ${label}, found ${begin}`);
    if (blocks.length === maxBlocks) throw new DerError(`more than ${maxBlocks} PEM ${label} blocks`);
    const base64 = body.replace(/[\r\n\t ]/g, '');
    if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      throw new DerError(`PEM ${label} block ${blocks.length + 1} is not valid base64`);
    }
    blocks.push(Buffer.from(base64, 'base64'));
  }
  if (begins !== blocks.length) throw new DerError(`a PEM block in the input is not terminated`);
  return blocks;
}

/** Exactly one `label` block. */
export function readPemBlock(text: string, label: PemLabel): Buffer {
  const blocks = readPemBlocks(text, label, 1);
  const first = blocks[0];
  if (first === undefined) throw new DerError(`no PEM ${label} block found`);
  return first;
}
