/**
 * Istio's host semantics at a gateway: a request is served only when its host matches both a
 * host of the Gateway server it came in on and a host of a VirtualService bound to that Gateway,
 * and the server's `namespace/` part lets that VirtualService's namespace bind (`*`, `.` = the
 * Gateway's own, or a name).
 */
import { hostMatches } from '@weft/core';
import type { GatewayServer } from './gateway-server.ts';

/** An exact host outranks every wildcard; among wildcards, the longer (more specific) wins. */
const EXACT_BONUS = 1_000_000;

/** How specifically one of `server`'s hosts matches `host`: -1 when none does. */
export function serverHostScore(server: GatewayServer, host: string): number {
  let best = -1;
  for (const { pattern } of server.hosts) {
    if (!hostMatches(pattern, host)) continue;
    const score = pattern === host ? EXACT_BONUS + pattern.length : pattern.length;
    if (score > best) best = score;
  }
  return best;
}

/**
 * The server among `servers` whose hosts match `host` most specifically (the first on a tie, in
 * Gateway order); undefined when none matches. Plain HTTP picks by the Host header, TLS by SNI.
 */
export function selectServer(servers: readonly GatewayServer[], host: string): GatewayServer | undefined {
  let chosen: GatewayServer | undefined;
  let best = -1;
  for (const server of servers) {
    const score = serverHostScore(server, host);
    if (score > best) {
      best = score;
      chosen = server;
    }
  }
  return chosen;
}

/** The server Envoy would use without SNI: one whose hosts include `*`. */
export function catchAllServer(servers: readonly GatewayServer[]): GatewayServer | undefined {
  return servers.find((server) => server.hosts.some((host) => host.pattern === '*'));
}

/** Whether a VirtualService bound to the server's Gateway serves `host` through this server. */
export function serverAdmits(server: GatewayServer, host: string): boolean {
  for (const virtualService of server.virtualServices) {
    if (!virtualService.hosts.some((pattern) => hostMatches(pattern, host))) continue;
    for (const serverHost of server.hosts) {
      if (!hostMatches(serverHost.pattern, host)) continue;
      if (serverHost.namespace === '*' || serverHost.namespace === virtualService.namespace) return true;
    }
  }
  return false;
}
