import { hostMatches, type StoredResource, toFqdn } from '@weft/core';
import { syncStatusOf } from '../clients/client-registry.ts';
import type { DashboardInputs } from './dashboard-inputs.ts';
import type { MergedEdge } from './edge-registry.ts';

/** One service as the dashboard's detail panel shows it. */
export interface ServiceDetail {
  readonly host: string;
  readonly name: string;
  readonly namespace: string;
  /** Whether a registered workload serves it. */
  readonly isRegistered: boolean;
  readonly workloads: readonly {
    readonly name: string;
    readonly namespace: string;
    readonly version: string | null;
    readonly address: string;
    readonly ports: Readonly<Record<string, number>>;
    readonly serviceAccount: string;
    readonly labels: Readonly<Record<string, string>>;
    /** Agent clients of that workload, with their sync status. */
    readonly clients: readonly {
      readonly clientId: string;
      readonly status: string;
      readonly connected: boolean;
    }[];
  }[];
  /** VirtualServices whose hosts cover it, as stored (the spec the operator applied). */
  readonly virtualServices: readonly AppliedResource[];
  /** DestinationRules whose host covers it. */
  readonly destinationRules: readonly AppliedResource[];
  /** Edges into it and out of it over the window. */
  readonly inbound: readonly MergedEdge[];
  readonly outbound: readonly MergedEdge[];
  /**
   * How many reporting clients call it: ejections and faults are what those clients report, so
   * with none there is nothing to say either way.
   */
  readonly reportingCallers: number;
  /** Endpoints of it that callers' outlier detection holds ejected now. */
  readonly ejections: readonly {
    readonly cluster: string;
    readonly endpoint: string;
    readonly reason: string;
    readonly ejectedForMs: number;
    readonly times: number;
    readonly reportedBy: string;
  }[];
  /** Faults its VirtualServices' routes injected over the window, per route and reporting client. */
  readonly faults: readonly {
    readonly route: string;
    readonly delays: number;
    readonly aborts: number;
    readonly overflows: number;
    readonly reportedBy: string;
  }[];
}

export interface AppliedResource {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion: string;
  readonly generation: number;
  readonly spec: unknown;
}

/** The most resources of one kind shown for a service. */
const MAX_RESOURCES = 50;

/** The detail of `host` (an FQDN) over a window; undefined when nothing at all mentions it. */
export function serviceDetail(
  inputs: DashboardInputs,
  host: string,
  windowMs: number,
): ServiceDetail | undefined {
  const { domainSuffix } = inputs;
  const view = inputs.edges.view(inputs.clock.now(), windowMs);
  const inbound = view.edges.filter((edge) => edge.destination.service === host);
  const outbound = view.edges.filter((edge) => edge.source.service === host);
  const registered = [...inputs.cache.workloads()].filter(
    (workload) => toFqdn(workload.service, { namespace: workload.namespace, domainSuffix }) === host,
  );
  const resources = [...inputs.cache.resources()];
  const virtualServices = resources.filter(
    (resource) => resource.kind === 'VirtualService' && routesTo(resource, host, domainSuffix),
  );
  const destinationRules = resources.filter((resource) => {
    const pattern = field(resource.spec, 'host');
    return (
      resource.kind === 'DestinationRule' &&
      typeof pattern === 'string' &&
      covers(pattern, resource, host, domainSuffix)
    );
  });
  if (
    registered.length === 0 &&
    inbound.length === 0 &&
    outbound.length === 0 &&
    virtualServices.length === 0
  )
    return undefined;

  const callers = new Set(inbound.map((edge) => `${edge.source.namespace}/${edge.source.workload}`));
  const routes = routeNamesOf(virtualServices);
  const ejections: ServiceDetail['ejections'][number][] = [];
  const faults: ServiceDetail['faults'][number][] = [];
  let reportingCallers = 0;
  for (const client of view.clients) {
    const isCaller = callers.has(`${client.source.namespace}/${client.source.workload}`);
    if (isCaller) reportingCallers++;
    for (const ejection of client.ejections) {
      if (ejection.cluster.endsWith(`|${host}`)) ejections.push({ ...ejection, reportedBy: client.clientId });
    }
    for (const fault of client.faults) {
      if (routes.has(fault.route)) faults.push({ ...fault, reportedBy: client.clientId });
    }
  }
  const clients = inputs.clients.list();
  const [name = host, namespace = ''] = host.split('.');
  return {
    host,
    name,
    namespace,
    isRegistered: registered.length > 0,
    workloads: registered.map((workload) => ({
      name: workload.name,
      namespace: workload.namespace,
      version: workload.labels.version ?? null,
      address: workload.address,
      ports: workload.ports,
      serviceAccount: workload.serviceAccount,
      labels: workload.labels,
      clients: clients
        .filter((record) => record.workload === workload.name && record.namespace === workload.namespace)
        .map((record) => ({
          clientId: record.clientId,
          status: syncStatusOf(record),
          connected: record.isConnected,
        })),
    })),
    virtualServices: virtualServices.slice(0, MAX_RESOURCES).map(applied),
    destinationRules: destinationRules.slice(0, MAX_RESOURCES).map(applied),
    inbound,
    outbound,
    reportingCallers,
    ejections,
    faults,
  };
}

/**
 * Whether a VirtualService shapes the requests to `host`: it binds to the mesh (no `gateways`, or
 * `mesh` among them) and its hosts cover `host`, or any of its routes sends requests to `host` (a
 * gateway's VirtualService, for the service behind it).
 */
function routesTo(resource: StoredResource, host: string, domainSuffix: string): boolean {
  const gateways = field(resource.spec, 'gateways');
  const isMeshBound = gateways === undefined || stringList(gateways).includes('mesh');
  const hosts = stringList(field(resource.spec, 'hosts'));
  if (isMeshBound && hosts.some((pattern) => covers(pattern, resource, host, domainSuffix))) return true;
  for (const kind of ['http', 'tcp', 'tls']) {
    const routes = field(resource.spec, kind);
    if (!Array.isArray(routes)) continue;
    for (const route of routes) {
      const destinations = field(route, 'route');
      if (!Array.isArray(destinations)) continue;
      for (const entry of destinations) {
        const target = field(field(entry, 'destination'), 'host');
        const context = { namespace: resource.metadata.namespace, domainSuffix };
        if (typeof target === 'string' && toFqdn(target, context) === host) return true;
      }
    }
  }
  return false;
}

/** Whether a VirtualService's or DestinationRule's host pattern covers `host`. */
function covers(pattern: string, resource: StoredResource, host: string, domainSuffix: string): boolean {
  return hostMatches(toFqdn(pattern, { namespace: resource.metadata.namespace, domainSuffix }), host);
}

/** The route names faults are reported under: `http[].name`, else `VirtualService/ns/name#index`. */
function routeNamesOf(virtualServices: readonly StoredResource[]): Set<string> {
  const names = new Set<string>();
  for (const resource of virtualServices) {
    const http = field(resource.spec, 'http');
    if (!Array.isArray(http)) continue;
    http.forEach((route: unknown, index) => {
      const name = field(route, 'name');
      names.add(
        typeof name === 'string'
          ? name
          : `VirtualService/${resource.metadata.namespace}/${resource.metadata.name}#${index}`,
      );
    });
  }
  return names;
}

function applied(resource: StoredResource): AppliedResource {
  return {
    kind: resource.kind,
    name: resource.metadata.name,
    namespace: resource.metadata.namespace,
    resourceVersion: resource.metadata.resourceVersion,
    generation: resource.metadata.generation,
    spec: resource.spec,
  };
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}
