import type { JWTPayload } from 'jose';

/** A header value that would split or end the header it is written into (bad-inputs D15). */
const UNSAFE_VALUE = /[\r\n\0]/;

export interface ClaimToHeader {
  readonly header: string;
  readonly claim: string;
}

/**
 * `outputClaimToHeaders`: a claim (nested ones by dots, `a.b.c`) copied into a header when it is a
 * string, a number or a boolean; other types, absent claims and values holding CR, LF or NUL write
 * nothing, so a claim can never inject a header.
 */
export function claimHeaders(payload: JWTPayload, mappings: readonly ClaimToHeader[]): [string, string][] {
  const headers: [string, string][] = [];
  for (const { header, claim } of mappings) {
    const value = claimAt(payload, claim);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    const text = String(value);
    if (!UNSAFE_VALUE.test(text)) headers.push([header, text]);
  }
  return headers;
}

function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let node: unknown = payload;
  for (const name of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, name))
      return undefined;
    node = (node as Record<string, unknown>)[name];
  }
  return node;
}

/**
 * `outputPayloadToHeader`: the payload as base64url JSON, which is exactly the token's middle
 * part, so it is passed on byte for byte rather than re-encoded.
 */
export function payloadHeaderValue(token: string): string {
  const first = token.indexOf('.');
  return token.slice(first + 1, token.indexOf('.', first + 1));
}
