import type { RequestPredicate } from './http-match.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { pathOnly, type RouteRequest } from './route-request.ts';

/** One weighted destination of a route, resolved to the cluster that serves it. */
export interface RouteDestination {
  /** `outbound|<port>|<subset>|<host>`, Envoy's cluster naming. */
  readonly clusterName: string;
  readonly host: string;
  readonly port: number;
  readonly subset?: string;
  readonly weight: number;
}

/**
 * A route ready for the request path. Everything derivable from config alone is computed here,
 * once per snapshot; `spec` keeps the normalized Istio route for the policies that consume it
 * (rewrite, redirect, directResponse, headers, fault, mirror, corsPolicy).
 */
export interface CompiledRoute<Spec = unknown> {
  /** `http[].name`, or `<VirtualService>#<index>` when unnamed; what telemetry reports. */
  readonly name: string;
  /** `VirtualService/<ns>/<name>`, or `default` for the implicit route to a service. */
  readonly source: string;
  readonly matches: RequestPredicate;
  /**
   * The match blocks that apply to this caller, in order, with the URI prefix each matched on
   * (when it matched on a prefix): a `rewrite.uri` replaces the prefix that matched, or the
   * whole path otherwise.
   */
  readonly matchBlocks: readonly { readonly matches: RequestPredicate; readonly uriPrefix?: string }[];
  readonly destinations: readonly RouteDestination[];
  /** Sum of destination weights; a weighted pick draws from [0, totalWeight). */
  readonly totalWeight: number;
  /** Route timeout; undefined means none (Istio's default). */
  readonly timeoutMs?: number;
  readonly retry: RetryPolicy;
  readonly spec?: Spec;
  /** The annotations of the VirtualService the route came from (Weft's extensions read them). */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * The ordered routes for one destination host and port, as one workload sees them. First match
 * wins; no match means "no route" (Envoy's NR, a 404), as in Istio when a VirtualService exists.
 */
export class RouteTable<Spec = unknown> {
  readonly host: string;
  readonly port: number;
  readonly routes: readonly CompiledRoute<Spec>[];

  constructor(host: string, port: number, routes: readonly CompiledRoute<Spec>[]) {
    this.host = host;
    this.port = port;
    this.routes = routes;
  }

  match(request: RouteRequest): CompiledRoute<Spec> | undefined {
    return this.matchPath(request, pathOnly(request.path));
  }

  /** As `match`, for a caller that has already split the query string off. */
  matchPath(request: RouteRequest, path: string): CompiledRoute<Spec> | undefined {
    for (const route of this.routes) {
      if (route.matches(request, path)) return route;
    }
    return undefined;
  }
}

/** Picks a destination by weight; `draw` is uniform in [0, 1), from the caller's Random. */
export function pickWeighted(route: CompiledRoute, draw: number): RouteDestination | undefined {
  const { destinations } = route;
  if (destinations.length <= 1) return destinations[0];
  let remaining = draw * route.totalWeight;
  for (const destination of destinations) {
    remaining -= destination.weight;
    if (remaining < 0) return destination;
  }
  return destinations[destinations.length - 1];
}

/** The URI prefix the request matched `route` on, if it matched a block with a prefix URI. */
export function matchedUriPrefix(
  route: CompiledRoute,
  request: RouteRequest,
  path: string,
): string | undefined {
  for (const block of route.matchBlocks) if (block.matches(request, path)) return block.uriPrefix;
  return undefined;
}

export function clusterName(host: string, port: number, subset: string | undefined): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}
