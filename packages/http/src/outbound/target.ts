import type { Dispatcher } from 'undici';

/** The mesh destination a request names: its host as the caller wrote it, and the port. */
export interface MeshedTarget {
  readonly scheme: 'http' | 'https';
  /** Lower-case host from the origin (no port, no brackets). */
  readonly hostName: string;
  /** The FQDN the mesh resolved it to; filled in by the interceptor. */
  readonly host: string;
  readonly port: number;
  /** The authority routing and the upstream see: the Host header if set, else host:port. */
  readonly authority: string;
}

/** An origin, parsed once: `http://reviews:9080`. */
export interface ParsedOrigin {
  readonly scheme: 'http' | 'https';
  readonly hostName: string;
  readonly port: number;
  /** host:port as it appears in the origin. */
  readonly authority: string;
}

const MAX_CACHED_ORIGINS = 1024;
const origins = new Map<string, ParsedOrigin | null>();

/**
 * Parses a dispatch origin. Processes talk to a handful of origins, so results are cached; the
 * cache is bounded so a process calling many hosts cannot grow it without limit.
 */
export function parseOrigin(origin: Dispatcher.DispatchOptions['origin']): ParsedOrigin | undefined {
  if (origin === undefined) return undefined;
  const key = typeof origin === 'string' ? origin : origin.origin;
  const cached = origins.get(key);
  if (cached !== undefined) return cached ?? undefined;
  let parsed: ParsedOrigin | null = null;
  try {
    const url = new URL(key);
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      const scheme = url.protocol === 'https:' ? 'https' : 'http';
      const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
      const hostName = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      parsed = { scheme, hostName: hostName.toLowerCase(), port, authority: url.host };
    }
  } catch {
    parsed = null;
  }
  if (origins.size >= MAX_CACHED_ORIGINS) origins.clear();
  origins.set(key, parsed);
  return parsed ?? undefined;
}
