import type { RequestAuthority } from '../request-path/request-authority.ts';
import { compileValuePatterns, type ValueTest } from './value-patterns.ts';

/** Tests a request's canonical authority, with the port the request was addressed to. */
export type HostTest = (authority: RequestAuthority, destinationPort: number) => boolean;

/**
 * `hosts` values: Istio's exact / `prefix*` / `*suffix` / `*`, compared without case. A value
 * without port matches the host on any port (bad-inputs D9: `example.com` covers
 * `Example.com:8080`), as does `example.com:*`; `example.com:8080` matches only that port, taken
 * from the authority or, when the authority has none, from the port the request arrived on.
 */
export function compileHostPatterns(patterns: readonly string[]): HostTest {
  const anyPort: string[] = [];
  const byPort = new Map<number, string[]>();
  for (const pattern of patterns) {
    const { host, port } = splitPort(pattern.toLowerCase());
    if (port === undefined) anyPort.push(host);
    else byPort.set(port, [...(byPort.get(port) ?? []), host]);
  }
  const anyPortTest = compileValuePatterns(anyPort.map(withoutTrailingDot));
  const portTests = new Map<number, ValueTest>();
  for (const [port, hosts] of byPort)
    portTests.set(port, compileValuePatterns(hosts.map(withoutTrailingDot)));
  if (portTests.size === 0) return (authority) => anyPortTest(authority.host);
  return (authority, destinationPort) =>
    anyPortTest(authority.host) ||
    portTests.get(authority.port ?? destinationPort)?.(authority.host) === true;
}

function splitPort(pattern: string): { readonly host: string; readonly port: number | undefined } {
  const match = /^(\[[^\]]*\]|[^:]*):(\d{1,5}|\*)$/.exec(pattern);
  if (match === null) return { host: pattern, port: undefined };
  const [, host = '', port = ''] = match;
  return { host, port: port === '*' ? undefined : Number(port) };
}

function withoutTrailingDot(host: string): string {
  return host.endsWith('.') && host !== '.' ? host.slice(0, -1) : host;
}
