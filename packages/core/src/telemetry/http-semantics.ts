/**
 * The parts of OpenTelemetry's HTTP semantic conventions Weft's spans follow: known methods as
 * they are, others as `_OTHER` (with the original kept apart), and the host and port of an
 * authority.
 */

const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'QUERY',
]);

/** `http.request.method`: a known method, or `_OTHER`. */
export function semanticMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

/** The span name of an HTTP request: its method, or `HTTP` for unknown methods. */
export function httpSpanName(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'HTTP';
}

/** `reviews:9080` → `reviews`; `[::1]:80` → `::1`; an authority without port is the host. */
export function authorityHost(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(1, end);
  }
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}
