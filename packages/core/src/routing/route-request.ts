/**
 * What routing needs to know of a request, independent of the protocol library carrying it.
 * Adapters build one per request; `header` reads lower-cased names and returns multiple values
 * joined with "," (one canonical form for routing and authorization alike; bad-inputs D20).
 */
export interface RouteRequest {
  /** The path as sent, possibly with a query string; fragments are never sent by clients. */
  readonly path: string;
  readonly method: string;
  /** Host header or :authority, without normalization; matching canonicalizes it. */
  readonly authority: string;
  readonly scheme: string;
  /** The destination port the caller addressed. */
  readonly port: number;
  readonly header: (name: string) => string | undefined;
}

/** The path without its query string: Istio matches URIs on the path only (bad-inputs D6). */
export function pathOnly(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/** The value of one query parameter, decoded, or undefined; the first occurrence wins, as Envoy. */
export function queryParameter(path: string, name: string): string | undefined {
  const query = path.indexOf('?');
  if (query === -1) return undefined;
  for (const pair of path.slice(query + 1).split('&')) {
    const equals = pair.indexOf('=');
    const key = safeDecode(equals === -1 ? pair : pair.slice(0, equals));
    if (key === name) return equals === -1 ? '' : safeDecode(pair.slice(equals + 1));
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    // A malformed escape is matched as written rather than failing the request.
    return text;
  }
}
