import { canonicalHost } from '../../config/host.ts';

/**
 * The Host header or `:authority` as authorization compares it: lower-cased (RFC 4343; bad-inputs
 * D8), without port (D9) and without trailing dot (D10) — the same `canonicalHost` that routing
 * applies, so that no layer sees a different name. The port is kept apart for policies that name
 * one (`example.com:8080`).
 */
export interface RequestAuthority {
  readonly host: string;
  /** The port written in the authority, if any. */
  readonly port: number | undefined;
}

/**
 * Splits and canonicalizes an authority; undefined when it is not one (empty, userinfo, a path,
 * whitespace, an unterminated IPv6 literal or a bad port), which no host pattern then matches.
 */
export function parseAuthority(authority: string): RequestAuthority | undefined {
  if (authority.length === 0 || hasForbiddenCharacter(authority)) return undefined;
  let hostEnd = authority.length;
  if (authority.charCodeAt(0) === 0x5b) {
    // An IPv6 literal, `[::1]` or `[::1]:8080`.
    const close = authority.indexOf(']');
    if (close === -1) return undefined;
    hostEnd = close + 1;
    if (hostEnd < authority.length && authority.charCodeAt(hostEnd) !== 0x3a) return undefined;
  } else {
    const colon = authority.lastIndexOf(':');
    // Several colons without brackets are not host:port; compare the text as it is.
    if (colon !== -1 && authority.indexOf(':') === colon) hostEnd = colon;
  }
  const host = canonicalHost(hostEnd === authority.length ? authority : authority.slice(0, hostEnd));
  if (host.length === 0) return undefined;
  if (hostEnd >= authority.length - 1) return { host, port: undefined };
  const port = decimalPort(authority, hostEnd + 1);
  return port === undefined ? undefined : { host, port };
}

/** Whitespace, `/`, `@`, `\`, `?` or `#`: a path, userinfo or garbage, not an authority. */
function hasForbiddenCharacter(authority: string): boolean {
  for (let i = 0; i < authority.length; i++) {
    const code = authority.charCodeAt(i);
    if (code <= 0x20 || code === 0x2f || code === 0x40 || code === 0x5c || code === 0x3f || code === 0x23)
      return true;
  }
  return false;
}

/** The digits from `start` to the end as a port (1–5 digits, at most 65535), or undefined. */
function decimalPort(text: string, start: number): number | undefined {
  if (text.length - start > 5) return undefined;
  let port = 0;
  for (let i = start; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    port = port * 10 + digit;
  }
  return port > 65_535 ? undefined : port;
}
