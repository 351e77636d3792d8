import type { IncomingMessage } from 'node:http';
import type { UnderscoreHeadersAction } from './inbound-options.ts';

/** Why the pipeline answers a request itself before any policy looks at it. */
export interface Refusal {
  readonly status: 400 | 431;
  readonly reason: string;
}

/**
 * The header checks node's HTTP parser leaves to the application, in one pass over the raw
 * header list: exactly one Host (node keeps the first of two and drops the other silently, so
 * two layers could read different hosts: bad-inputs D11, D12), header names with underscores
 * (D17), and the number of headers (node drops those past `maxHeadersCount` without a word: D18).
 * Node itself refuses NUL, bare CR/LF, obs-fold, conflicting framing and oversized heads.
 */
export function screenHeaders(
  request: IncomingMessage,
  underscores: UnderscoreHeadersAction,
  maxHeadersCount: number,
): Refusal | undefined {
  const raw = request.rawHeaders;
  if (raw.length / 2 > maxHeadersCount) {
    return { status: 431, reason: `the request has more than ${maxHeadersCount} headers` };
  }
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      continue;
    }
    if (underscores === 'ALLOW' || !name.includes('_')) continue;
    if (underscores === 'REJECT_REQUEST') {
      return {
        status: 400,
        reason: `the header name ${JSON.stringify(name.slice(0, 64))} has an underscore`,
      };
    }
    delete request.headers[name.toLowerCase()];
  }
  if (hosts === 1) return undefined;
  return {
    status: 400,
    reason: hosts === 0 ? 'the request has no Host header' : 'the request has more than one Host header',
  };
}
