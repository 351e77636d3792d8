/** `reviews:9080` → `reviews`; `[::1]:80` → `::1`; lower-case: the host a request's SNI names. */
export function hostOf(authority: string): string {
  const bracket = authority.startsWith('[') ? authority.indexOf(']') : -1;
  if (bracket !== -1) return authority.slice(1, bracket).toLowerCase();
  const colon = authority.lastIndexOf(':');
  const host = colon === -1 || authority.indexOf(':') !== colon ? authority : authority.slice(0, colon);
  return host.toLowerCase();
}

/** An IP address literal: TLS sends no SNI for one (RFC 6066 §3). */
export function isIpLiteral(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}
