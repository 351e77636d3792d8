/**
 * What a gRPC target names, read without DNS: `weft:///reviews.default:9080` (the mesh's own
 * scheme) or a plain `reviews:9080`, `dns:///reviews:9080`, `reviews.default.svc.cluster.local:9080`.
 */
export interface ParsedTarget {
  /** `weft` for the mesh's scheme; `dns`, `ipv4`, … as written; undefined for a bare `host:port`. */
  readonly scheme: string | undefined;
  /** Lower-case host as the caller wrote it (no brackets, no port). */
  readonly hostName: string;
  /** Undefined when the target has none: the service's only port is used then. */
  readonly port: number | undefined;
}

export const WEFT_SCHEME = 'weft';

const URI = /^([a-z][a-z0-9+.-]*):(?:\/\/[^/]*\/)?(.*)$/i;

/** Parses a target; undefined when it names no host (a unix socket, an empty path). */
export function parseTarget(target: string): ParsedTarget | undefined {
  let scheme: string | undefined;
  let rest = target;
  const uri = URI.exec(target);
  // `reviews:9080` matches the URI pattern with scheme `reviews`: a scheme is only a scheme when
  // what follows is not all digits.
  if (uri !== null && !/^\d*$/.test(uri[2] ?? '')) {
    scheme = (uri[1] ?? '').toLowerCase();
    rest = uri[2] ?? '';
  }
  if (scheme === 'unix' || scheme === 'unix-abstract' || rest === '') return undefined;
  const hostPort = splitHostPort(rest);
  if (hostPort === undefined) return undefined;
  return { scheme, hostName: hostPort.host.toLowerCase(), port: hostPort.port };
}

/** The target a mesh channel is created for: the host and port, under the `weft` scheme. */
export function weftTarget(hostName: string, port: number | undefined): string {
  const host = hostName.includes(':') ? `[${hostName}]` : hostName;
  return port === undefined ? `${WEFT_SCHEME}:///${host}` : `${WEFT_SCHEME}:///${host}:${port}`;
}

function splitHostPort(text: string): { host: string; port: number | undefined } | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return undefined;
    const host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after === '') return { host, port: undefined };
    return after.startsWith(':') ? withPort(host, after.slice(1)) : undefined;
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) return { host: text, port: undefined };
  // More than one colon without brackets is a bare IPv6 address, without a port.
  if (text.indexOf(':') !== colon) return { host: text, port: undefined };
  return withPort(text.slice(0, colon), text.slice(colon + 1));
}

function withPort(host: string, portText: string): { host: string; port: number } | undefined {
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return host === '' || port > 65_535 ? undefined : { host, port };
}
