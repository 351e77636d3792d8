import type { Random } from '../randomness/random.ts';
import { hashString } from './hash-function.ts';
import type { ConsistentHashSettings } from './load-balancer.ts';

/** What a consistent-hash policy may read from a request; adapters implement it over their own request type. */
export interface HashRequestView {
  /** The header's value (repeated headers joined with ", "); `name` is lower-case. */
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
  query(name: string): string | undefined;
  /**
   * The address `useSourceIp` hashes. For an outbound call it is this workload's own address (as
   * for a sidecar: every request from one caller lands on one endpoint); an adapter forwarding a
   * downstream request may pass the downstream client's address instead.
   */
  readonly sourceIp?: string | undefined;
  /**
   * Receives the cookie to set on the response when `httpCookie.ttl` asks for one to be generated.
   * Without it, a request lacking the cookie gets no hash (and so a random endpoint).
   */
  setCookie?(cookie: GeneratedCookie): void;
}

/** A cookie the adapter must add to the response it hands back (a `Set-Cookie` header). */
export interface GeneratedCookie {
  readonly name: string;
  readonly value: string;
  readonly path?: string | undefined;
  /** `Max-Age` in seconds; undefined for a session cookie (Istio's `ttl: 0s`). */
  readonly maxAgeSeconds?: number | undefined;
  readonly attributes: readonly { readonly name: string; readonly value?: string | undefined }[];
}

/** Computes a request's hash, or undefined when its key is absent (the pick is then random, as in Envoy). */
export interface RequestHasher {
  hash(request: HashRequestView): number | undefined;
}

function hashOf(value: string | undefined): number | undefined {
  return value === undefined ? undefined : hashString(value);
}

/** A 64-bit random value as 16 hex digits, the shape of the cookie value Envoy generates. */
function randomCookieValue(random: Random): string {
  const high = Math.floor(random.next() * 4_294_967_296);
  const low = Math.floor(random.next() * 4_294_967_296);
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/**
 * Compiles the hash key of a `consistentHash` policy once per policy, so the request path does one
 * lookup and one hash. For `httpCookie` with a `ttl`, a request without the cookie gets a new one:
 * its value is random (Envoy derives it from the connection's addresses, which a client library
 * does not have), the request is hashed on it, and `setCookie` hands it to the adapter, so the
 * client's next request carries it and lands on the same endpoint.
 */
export function createRequestHasher(settings: ConsistentHashSettings, random: Random): RequestHasher {
  const { httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName } = settings;
  if (httpHeaderName !== undefined) {
    const name = httpHeaderName.toLowerCase();
    return { hash: (request) => hashOf(request.header(name)) };
  }
  if (httpQueryParameterName !== undefined) {
    return { hash: (request) => hashOf(request.query(httpQueryParameterName)) };
  }
  if (useSourceIp === true) return { hash: (request) => hashOf(request.sourceIp) };
  if (httpCookie === undefined) return { hash: () => undefined };
  const { name, path, ttl } = httpCookie;
  const attributes = httpCookie.attributes ?? [];
  return {
    hash(request) {
      const value = request.cookie(name);
      if (value !== undefined) return hashString(value);
      if (ttl === undefined || request.setCookie === undefined) return undefined;
      const generated = randomCookieValue(random);
      request.setCookie({
        name,
        value: generated,
        path,
        maxAgeSeconds: ttl === 0 ? undefined : Math.floor(ttl / 1000),
        attributes,
      });
      return hashString(generated);
    },
  };
}

/** The `Set-Cookie` header value for a generated cookie, HttpOnly as Envoy sets it. */
export function formatSetCookie(cookie: GeneratedCookie): string {
  let header = `${cookie.name}=${cookie.value}`;
  if (cookie.maxAgeSeconds !== undefined) header += `; Max-Age=${cookie.maxAgeSeconds}`;
  if (cookie.path !== undefined && cookie.path !== '') header += `; Path=${cookie.path}`;
  header += '; HttpOnly';
  for (const attribute of cookie.attributes) {
    header +=
      attribute.value === undefined ? `; ${attribute.name}` : `; ${attribute.name}=${attribute.value}`;
  }
  return header;
}
