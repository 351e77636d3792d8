import { anyOf, compileHttpMatch, type RequestPredicate } from '../../routing/http-match.ts';
import { compileRetryPolicy } from '../../routing/retry-policy.ts';
import {
  type CompiledRoute,
  clusterName,
  type RouteDestination,
  RouteTable,
} from '../../routing/route-table.ts';
import { canonicalHost, hostMatches } from '../host.ts';
import { resourceKey } from '../resource.ts';
import type { VirtualServiceResource } from '../resources.ts';
import { buildCluster, type Cluster } from './cluster.ts';
import { selectDestinationRule } from './destination-rule-selection.ts';
import { gatewaysSelecting, isBoundTo } from './gateway-binding.ts';
import type { MeshIndex } from './mesh-index.ts';
import type { MeshService } from './mesh-service.ts';
import { type SidecarScope, selectSidecarScope } from './sidecar-scope.ts';
import type { SourceWorkload } from './source-workload.ts';
import { isExportedTo, labelsMatch } from './visibility.ts';

export type HttpRouteSpec = NonNullable<VirtualServiceResource['spec']['http']>[number];
type MatchSpec = NonNullable<HttpRouteSpec['match']>[number];

/** Bound on the names a view remembers resolving; a process calling more just resolves again. */
const MAX_RESOLVED_NAMES = 4096;

/** The gateway name Istio uses for sidecars (and so for Weft's in-process clients). */
export const MESH_GATEWAY = 'mesh';

/**
 * The mesh as one workload sees it when it calls out: which hosts it may reach, the route table
 * for each host and port, and the clusters those routes lead to. Built once per snapshot and
 * source; lookups on the request path are Map reads.
 */
export class WorkloadView {
  readonly source: SourceWorkload;
  readonly sidecar: SidecarScope;
  /**
   * The Gateways (`namespace/name`) whose selector matches this workload: when there are any,
   * the workload is an ingress gateway and sees the VirtualServices bound to them, not `mesh`.
   */
  readonly gateways: ReadonlySet<string>;
  readonly #index: MeshIndex;
  readonly #services: ReadonlyMap<string, MeshService>;
  readonly #tables = new Map<string, Map<number, RouteTable<HttpRouteSpec>>>();
  readonly #clusters = new Map<string, Cluster>();
  readonly #resolved = new Map<string, string | null>();
  /** VirtualServices for this workload, by each exact host they claim, in resource order. */
  readonly #exactClaims = new Map<string, VirtualServiceResource[]>();
  /** VirtualServices for this workload that claim wildcard hosts, in resource order. */
  readonly #wildcardClaimants: VirtualServiceResource[] = [];

  constructor(index: MeshIndex, source: SourceWorkload) {
    this.#index = index;
    this.source = source;
    this.sidecar = selectSidecarScope(index.resources.Sidecar, source, index.options);
    this.gateways = gatewaysSelecting(index.resources.Gateway, source);
    const visible = new Map<string, MeshService>();
    for (const service of index.services.values()) {
      if (!isExportedTo(service.exportTo, service.namespace, source.namespace, index.options.defaultExportTo))
        continue;
      if (!this.sidecar.isVisible(service.namespace, service.host)) continue;
      visible.set(service.host, service);
    }
    this.#services = visible;
    this.#buildRouteTables();
  }

  get outboundTrafficPolicy(): 'ALLOW_ANY' | 'REGISTRY_ONLY' {
    return this.sidecar.outboundTrafficPolicy;
  }

  /** Services this workload may call, by FQDN. */
  get services(): ReadonlyMap<string, MeshService> {
    return this.#services;
  }

  /**
   * The FQDN a caller means by `name`: `reviews`, `reviews.default`, `reviews.default.svc` and
   * the FQDN itself all name the same service for a caller in `default`. Undefined when the mesh
   * has no such host (an external host, subject to the outbound traffic policy).
   */
  resolveHost(name: string): string | undefined {
    // A process calls a handful of names many times: resolve each once per view.
    const cached = this.#resolved.get(name);
    if (cached !== undefined) return cached === null ? undefined : cached;
    const resolved = this.#resolve(name);
    if (this.#resolved.size >= MAX_RESOLVED_NAMES) this.#resolved.clear();
    this.#resolved.set(name, resolved ?? null);
    return resolved;
  }

  #resolve(name: string): string | undefined {
    const host = canonicalHost(name);
    if (this.gateways.size > 0) {
      // At a gateway, a host is one its VirtualServices name, or else the table of the most
      // specific wildcard that claims it: tables stay one per VirtualService host, however many
      // names clients send.
      if (this.#exactClaims.has(host)) return host;
      return mostSpecificPattern(this.#wildcardClaimants, host);
    }
    if (this.#tables.has(host) || this.#services.has(host)) return host;
    const { namespace } = this.source;
    const suffix = this.#index.options.domainSuffix;
    const dots = countDots(host);
    const candidate =
      dots === 0
        ? `${host}.${namespace}.svc.${suffix}`
        : dots === 1
          ? `${host}.svc.${suffix}`
          : host.endsWith('.svc')
            ? `${host}.${suffix}`
            : undefined;
    if (candidate !== undefined && (this.#tables.has(candidate) || this.#services.has(candidate)))
      return candidate;
    return undefined;
  }

  /** The route table for a resolved host and port; undefined if the host is unknown here. */
  routeTable(host: string, port: number): RouteTable<HttpRouteSpec> | undefined {
    const byPort = this.#tables.get(host);
    if (byPort === undefined) return undefined;
    const table = byPort.get(port);
    if (table !== undefined) return table;
    // A VirtualService without port matches applies to every port of its host; tables for ports
    // that no service declares are built on first use.
    const service = this.#services.get(host);
    const built = this.#buildTable(host, port, service);
    byPort.set(port, built);
    return built;
  }

  /** Every route table built for this view, for `weft proxy-config` and tests. */
  *routeTables(): Iterable<RouteTable<HttpRouteSpec>> {
    for (const byPort of this.#tables.values()) yield* byPort.values();
  }

  /** The cluster behind a route destination; built on first use and kept for the snapshot's life. */
  cluster(destination: RouteDestination): Cluster | undefined {
    const cached = this.#clusters.get(destination.clusterName);
    if (cached !== undefined) return cached;
    const service = this.#services.get(destination.host) ?? this.#index.services.get(destination.host);
    if (service === undefined) return undefined;
    const rule = selectDestinationRule(
      this.#index.destinationRulesFor(service.host),
      service.host,
      service.namespace,
      this.source,
      this.#index.options,
    );
    const cluster = buildCluster(
      destination.clusterName,
      service,
      destination.port,
      destination.subset,
      rule,
    );
    this.#clusters.set(destination.clusterName, cluster);
    return cluster;
  }

  #buildRouteTables(): void {
    const isGateway = this.gateways.size > 0;
    // A gateway routes only the hosts of its VirtualServices; a sidecar reaches every visible service.
    const hosts = new Set<string>(isGateway ? [] : this.#services.keys());
    for (const virtualService of this.#boundVirtualServices()) {
      let hasWildcard = false;
      for (const host of virtualService.spec.hosts) {
        if (host.includes('*')) {
          hasWildcard = true;
          if (isGateway) hosts.add(host);
          continue;
        }
        hosts.add(host);
        const claims = this.#exactClaims.get(host);
        if (claims === undefined) this.#exactClaims.set(host, [virtualService]);
        else if (!claims.includes(virtualService)) claims.push(virtualService);
      }
      if (hasWildcard) this.#wildcardClaimants.push(virtualService);
    }
    for (const host of hosts) {
      const service = this.#services.get(host);
      const byPort = new Map<number, RouteTable<HttpRouteSpec>>();
      for (const port of service?.ports ?? [])
        byPort.set(port.number, this.#buildTable(host, port.number, service));
      this.#tables.set(host, byPort);
    }
  }

  /**
   * VirtualServices that apply to this workload and are visible to it: those bound to `mesh`
   * for a sidecar, those bound to one of its Gateways for a gateway.
   */
  #boundVirtualServices(): readonly VirtualServiceResource[] {
    const { source, sidecar } = this;
    return this.#index.resources.VirtualService.filter((virtualService) => {
      const namespace = virtualService.metadata.namespace;
      const applies =
        this.#appliesHere(virtualService.spec.gateways ?? [], namespace) ||
        (virtualService.spec.http ?? []).some((route) =>
          (route.match ?? []).some(
            (block) =>
              block.gateways !== undefined &&
              block.gateways.length > 0 &&
              this.#appliesHere(block.gateways, namespace),
          ),
        );
      return (
        applies &&
        isExportedTo(
          virtualService.spec.exportTo,
          virtualService.metadata.namespace,
          source.namespace,
          this.#index.options.defaultExportTo,
        ) &&
        virtualService.spec.hosts.some((host) => sidecar.isVisible(virtualService.metadata.namespace, host))
      );
    });
  }

  #buildTable(host: string, port: number, service: MeshService | undefined): RouteTable<HttpRouteSpec> {
    const exact = this.#exactClaims.get(host);
    const claimants = exact ?? claimingWildcards(this.#wildcardClaimants, host);
    const claims = claimants.filter((virtualService) => this.#mayClaim(virtualService, host));
    if (claims.length === 0) {
      return new RouteTable(host, port, service === undefined ? [] : [this.#defaultRoute(host, port)]);
    }
    const routes: CompiledRoute<HttpRouteSpec>[] = [];
    for (const virtualService of claims) {
      const vsGateways = virtualService.spec.gateways ?? [];
      (virtualService.spec.http ?? []).forEach((route, index) => {
        const compiled = this.#compileRoute(virtualService, route, index, vsGateways, port);
        if (compiled !== undefined) routes.push(compiled);
      });
    }
    return new RouteTable(host, port, routes);
  }

  #compileRoute(
    virtualService: VirtualServiceResource,
    route: HttpRouteSpec,
    index: number,
    vsGateways: readonly string[],
    port: number,
  ): CompiledRoute<HttpRouteSpec> | undefined {
    const blocks = route.match ?? [];
    // A route without match blocks inherits the VirtualService's gateways; one whose blocks all
    // exclude this caller can never match it. Either way it is left out of this caller's table.
    const namespace = virtualService.metadata.namespace;
    if (blocks.length === 0 && !this.#appliesHere(vsGateways, namespace)) return undefined;
    const applicable = blocks.filter((block) => this.#blockApplies(block, vsGateways, namespace, port));
    if (blocks.length > 0 && applicable.length === 0) return undefined;
    const matchBlocks = applicable.map((block) => ({
      matches: compileHttpMatch(block),
      ...(block.uri?.type === 'prefix' ? { uriPrefix: block.uri.value } : {}),
    }));
    const matches: RequestPredicate = anyOf(matchBlocks.map((block) => block.matches));
    const entries = route.route ?? [];
    const destinations: RouteDestination[] = entries.map((entry) => {
      const destinationHost = entry.destination.host;
      const target = this.#index.services.get(destinationHost);
      const destinationPort =
        entry.destination.port?.number ??
        (target?.ports.length === 1 ? (target.ports[0]?.number ?? port) : port);
      const subset = entry.destination.subset;
      return {
        clusterName: clusterName(destinationHost, destinationPort, subset),
        host: destinationHost,
        port: destinationPort,
        ...(subset === undefined ? {} : { subset }),
        // A single destination takes all traffic, whatever its weight (validation requires
        // weights when there are several).
        weight: entries.length === 1 ? 1 : (entry.weight ?? 0),
      };
    });
    const source = resourceKey(virtualService);
    return {
      name: route.name ?? `${source}#${index}`,
      source,
      matches,
      matchBlocks,
      destinations,
      totalWeight: destinations.reduce((sum, destination) => sum + destination.weight, 0),
      ...(route.timeout === undefined || route.timeout === 0 ? {} : { timeoutMs: route.timeout }),
      retry: compileRetryPolicy(route.retries),
      spec: route,
      annotations: virtualService.metadata.annotations,
    };
  }

  /** Host ownership (see MeshOptions.crossNamespaceHostClaims): a claim from a foreign namespace. */
  #mayClaim(virtualService: VirtualServiceResource, host: string): boolean {
    if (this.#index.options.crossNamespaceHostClaims === 'mesh-wide') return true;
    const owner = this.#index.services.get(host)?.namespace;
    const claimant = virtualService.metadata.namespace;
    return owner === undefined || owner === claimant || claimant === this.source.namespace;
  }

  /** Whether a match block can apply to this workload on this port at all. */
  #blockApplies(block: MatchSpec, vsGateways: readonly string[], vsNamespace: string, port: number): boolean {
    if (!this.#appliesHere(block.gateways ?? vsGateways, vsNamespace)) return false;
    if (block.port !== undefined && block.port !== port) return false;
    if (block.sourceNamespace !== undefined && block.sourceNamespace !== this.source.namespace) return false;
    return labelsMatch(block.sourceLabels, this.source.labels);
  }

  /**
   * Whether a `gateways` list (of a VirtualService in `namespace`, or of one match block) names
   * this workload: `mesh` (or no list) for a sidecar, one of its Gateways for a gateway.
   */
  #appliesHere(gateways: readonly string[], namespace: string): boolean {
    if (this.gateways.size > 0) return isBoundTo(gateways, namespace, this.gateways);
    return gateways.length === 0 || gateways.includes(MESH_GATEWAY);
  }

  #defaultRoute(host: string, port: number): CompiledRoute<HttpRouteSpec> {
    return {
      name: 'default',
      source: 'default',
      matches: () => true,
      matchBlocks: [],
      destinations: [{ clusterName: clusterName(host, port, undefined), host, port, weight: 1 }],
      totalWeight: 1,
      retry: compileRetryPolicy(undefined),
    };
  }
}

/**
 * The VirtualServices that claim `host` through a wildcard, when none names it exactly: those
 * with the most specific (longest) matching pattern. Several claimants, exact or wildcard, are
 * merged in resource order (see resource-order.ts): their routes are concatenated, so the
 * oldest resource's routes are tried first.
 */
function claimingWildcards(
  candidates: readonly VirtualServiceResource[],
  host: string,
): VirtualServiceResource[] {
  let best = -1;
  let claims: VirtualServiceResource[] = [];
  for (const virtualService of candidates) {
    for (const pattern of virtualService.spec.hosts) {
      if (!pattern.includes('*') || !hostMatches(pattern, host)) continue;
      if (pattern.length > best) {
        best = pattern.length;
        claims = [virtualService];
      } else if (pattern.length === best && !claims.includes(virtualService)) {
        claims.push(virtualService);
      }
    }
  }
  return claims;
}

/** The longest wildcard host of `claimants` that matches `host`, or undefined. */
function mostSpecificPattern(claimants: readonly VirtualServiceResource[], host: string): string | undefined {
  let best: string | undefined;
  for (const virtualService of claimants)
    for (const pattern of virtualService.spec.hosts)
      if (pattern.includes('*') && hostMatches(pattern, host) && pattern.length > (best?.length ?? -1))
        best = pattern;
  return best;
}

function countDots(host: string): number {
  let dots = 0;
  for (let i = 0; i < host.length; i++) if (host.charCodeAt(i) === 46) dots++;
  return dots;
}
