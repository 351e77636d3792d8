import type { Metadata } from '@grpc/grpc-js';
import type { HashRequestView, RouteRequest } from '@weft/core';

/**
 * One metadata entry as routing, hashing and retry conditions read it: several values joined
 * with ", " (one canonical form, as @weft/http reads headers); undefined when absent. Binary
 * (`-bin`) entries are not text and read as absent. `content-type` is not in a call's metadata
 * (grpc-js adds it on the wire), so it reads as the value every gRPC request carries.
 */
export function metadataValue(metadata: Metadata, name: string): string | undefined {
  if (name === 'content-type') return 'application/grpc';
  if (name.endsWith('-bin')) return undefined;
  const values = metadata.get(name);
  if (values.length === 0) return undefined;
  if (values.length === 1) return typeof values[0] === 'string' ? values[0] : undefined;
  return values.filter((value): value is string => typeof value === 'string').join(', ');
}

/** One cookie's value from a `cookie` entry (`a=1; b=2`), for consistentHash.httpCookie. */
export function cookieValue(metadata: Metadata, name: string): string | undefined {
  const header = metadataValue(metadata, 'cookie');
  if (header === undefined) return undefined;
  for (const part of header.split(/;\s*/)) {
    const equals = part.indexOf('=');
    if (equals !== -1 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim();
  }
  return undefined;
}

/** A reader of response trailers for the retry layer's header-based conditions. */
export function metadataReader(metadata: Metadata): { get(name: string): string | undefined } {
  return { get: (name) => metadataValue(metadata, name) };
}

/** What routing reads of a call: the method path, POST, the authority, the metadata as headers. */
export function routeRequestOf(
  method: string,
  authority: string,
  port: number,
  metadata: Metadata,
): RouteRequest {
  return {
    path: method,
    method: 'POST',
    authority,
    scheme: 'http',
    port,
    header: (name) => metadataValue(metadata, name),
  };
}

/**
 * What consistent hashing reads of a call (DestinationRule `consistentHash`). There is no query,
 * and no `setCookie`: a gRPC response cannot set a cookie, so a missing one picks at random.
 */
export function hashViewOf(metadata: Metadata, sourceIp: string | undefined): HashRequestView {
  return {
    header: (name) => metadataValue(metadata, name),
    cookie: (name) => cookieValue(metadata, name),
    query: () => undefined,
    sourceIp,
  };
}
