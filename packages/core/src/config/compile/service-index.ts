import type { RegisteredWorkload, Registry } from '../../registry/workload.ts';
import { protocolOfServicePort } from '../kinds/kubernetes-service.ts';
import { resourceKey } from '../resource.ts';
import type { KubernetesServiceResource, ServiceEntryResource, WorkloadEntryResource } from '../resources.ts';
import type { MeshOptions } from './mesh-options.ts';
import { type MeshService, parseLocality, type ServiceEndpoint, type ServicePort } from './mesh-service.ts';
import { labelsMatch } from './visibility.ts';

export interface ServiceSources {
  readonly registry: Registry;
  readonly kubernetesServices: readonly KubernetesServiceResource[];
  readonly serviceEntries: readonly ServiceEntryResource[];
  readonly workloadEntries: readonly WorkloadEntryResource[];
}

/**
 * Every host the mesh knows, keyed by canonical FQDN. Services of the registry (declared by
 * Kubernetes Service resources or by the workloads that register for them) win over a
 * ServiceEntry for the same host, as a Kubernetes Service does in Istio; among ServiceEntries,
 * the first in resource order wins and analyze() reports the rest.
 */
export function indexServices(
  sources: ServiceSources,
  options: MeshOptions,
): ReadonlyMap<string, MeshService> {
  const { registry, kubernetesServices, serviceEntries, workloadEntries } = sources;
  const services = new Map<string, MeshService>();
  for (const service of servicesFromRegistry(registry, kubernetesServices, options))
    services.set(service.host, service);
  for (const entry of serviceEntries) {
    for (const service of servicesFromEntry(entry, registry, workloadEntries)) {
      if (!services.has(service.host)) services.set(service.host, service);
    }
  }
  return services;
}

/**
 * Registry services: one per Kubernetes Service resource (its ports, and as endpoints the
 * workloads its selector matches or that register under its name), and one per service name
 * that workloads register without any Service resource (ports taken from the registrations).
 */
function servicesFromRegistry(
  registry: Registry,
  kubernetesServices: readonly KubernetesServiceResource[],
  options: MeshOptions,
): MeshService[] {
  const hostOf = (name: string, namespace: string) =>
    `${name}.${namespace}.svc.${options.domainSuffix}`.toLowerCase();
  const registered = new Map<string, RegisteredWorkload[]>();
  for (const workload of registry.workloads) {
    const host = hostOf(workload.service, workload.namespace);
    registered.set(host, [...(registered.get(host) ?? []), workload]);
  }
  const services: MeshService[] = [];
  const declared = new Set<string>();
  for (const resource of kubernetesServices) {
    const { name, namespace } = resource.metadata;
    const host = hostOf(name, namespace);
    if (declared.has(host)) continue;
    declared.add(host);
    const selector = resource.spec.selector;
    const members = new Set(registered.get(host) ?? []);
    if (selector !== undefined && Object.keys(selector).length > 0) {
      for (const workload of registry.workloads) {
        if (workload.namespace === namespace && labelsMatch(selector, workload.labels)) members.add(workload);
      }
    }
    const specPorts = resource.spec.ports ?? [];
    const ports: ServicePort[] = specPorts.map((port) => ({
      number: port.port,
      ...(port.name === undefined ? {} : { name: port.name }),
      protocol: protocolOfServicePort(port),
    }));
    const endpoints = [...members].map((workload) => {
      const endpoint = endpointOfWorkload(workload);
      // A workload's own registration says where it listens; a numeric targetPort is the fallback.
      const targetPorts = new Map<number, number>();
      for (const port of specPorts) {
        const target =
          workload.ports[port.port] ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port);
        targetPorts.set(port.port, target);
      }
      return { ...endpoint, targetPorts };
    });
    services.push(registryService(host, namespace, ports, endpoints, [...members]));
  }
  for (const [host, workloads] of registered) {
    if (declared.has(host)) continue;
    const ports = new Map<number, ServicePort>();
    for (const workload of workloads) {
      for (const key of Object.keys(workload.ports)) {
        const number = Number(key);
        if (!ports.has(number))
          ports.set(number, { number, protocol: (workload.protocols?.[number] ?? 'http').toUpperCase() });
      }
    }
    const namespace = workloads[0]?.namespace ?? '';
    const sortedPorts = [...ports.values()].sort((a, b) => a.number - b.number);
    services.push(
      registryService(host, namespace, sortedPorts, workloads.map(endpointOfWorkload), workloads),
    );
  }
  return services;
}

function registryService(
  host: string,
  namespace: string,
  ports: readonly ServicePort[],
  endpoints: readonly ServiceEndpoint[],
  workloads: readonly RegisteredWorkload[],
): MeshService {
  return {
    host,
    namespace,
    origin: 'registry',
    ports,
    location: 'MESH_INTERNAL',
    resolution: 'STATIC',
    endpoints,
    serviceAccounts: unique(workloads.map((workload) => workload.serviceAccount)),
  };
}

function endpointOfWorkload(workload: RegisteredWorkload): ServiceEndpoint {
  const locality = workload.locality;
  return {
    address: workload.address,
    targetPorts: new Map(Object.entries(workload.ports).map(([port, target]) => [Number(port), target])),
    labels: workload.labels,
    namespace: workload.namespace,
    serviceAccount: workload.serviceAccount,
    ...(locality === undefined ? {} : { locality }),
    weight: workload.weight ?? 1,
    origin: `registry:${workload.namespace}/${workload.name}`,
  };
}

type EntrySpec = ServiceEntryResource['spec'];
type InlineEndpoint = NonNullable<EntrySpec['endpoints']>[number];

function servicesFromEntry(
  entry: ServiceEntryResource,
  registry: Registry,
  workloadEntries: readonly WorkloadEntryResource[],
): MeshService[] {
  const { spec, metadata } = entry;
  const ports: ServicePort[] = (spec.ports ?? []).map((port) => ({
    number: port.number,
    ...(port.name === undefined ? {} : { name: port.name }),
    protocol: (port.protocol ?? 'TCP').toUpperCase(),
  }));
  const targetPortsOf = (named: Readonly<Record<string, number>> | undefined): Map<number, number> =>
    new Map(
      (spec.ports ?? []).map((port) => [
        port.number,
        (port.name === undefined ? undefined : named?.[port.name]) ?? port.targetPort ?? port.number,
      ]),
    );
  const endpoints: ServiceEndpoint[] = [];
  const inline: readonly InlineEndpoint[] = spec.endpoints ?? [];
  inline.forEach((endpoint, index) => {
    endpoints.push(
      endpointOfEntry(
        endpoint,
        metadata.namespace,
        targetPortsOf(endpoint.ports),
        `${resourceKey(entry)}#${index}`,
      ),
    );
  });
  const selector = spec.workloadSelector?.labels;
  if (selector !== undefined) {
    // A ServiceEntry's workloadSelector picks WorkloadEntries and registered workloads of its own
    // namespace, as Istio's does for WorkloadEntries and pods.
    for (const workloadEntry of workloadEntries) {
      if (workloadEntry.metadata.namespace !== metadata.namespace) continue;
      if (!labelsMatch(selector, workloadEntry.spec.labels ?? {})) continue;
      endpoints.push(
        endpointOfEntry(
          workloadEntry.spec,
          metadata.namespace,
          targetPortsOf(workloadEntry.spec.ports),
          resourceKey(workloadEntry),
        ),
      );
    }
    for (const workload of registry.workloads) {
      if (workload.namespace !== metadata.namespace || !labelsMatch(selector, workload.labels)) continue;
      endpoints.push({ ...endpointOfWorkload(workload), targetPorts: targetPortsOf(undefined) });
    }
  }
  const serviceAccounts = unique([
    ...endpoints.flatMap((endpoint) =>
      endpoint.serviceAccount === undefined ? [] : [endpoint.serviceAccount],
    ),
    ...(spec.subjectAltNames ?? []),
  ]);
  return spec.hosts.map((host) => ({
    host,
    namespace: metadata.namespace,
    origin: 'ServiceEntry',
    definedBy: resourceKey(entry),
    ports,
    ...(spec.exportTo === undefined ? {} : { exportTo: spec.exportTo }),
    location: spec.location ?? 'MESH_EXTERNAL',
    resolution: spec.resolution ?? 'NONE',
    endpoints,
    serviceAccounts,
  }));
}

function endpointOfEntry(
  endpoint: InlineEndpoint,
  namespace: string,
  targetPorts: ReadonlyMap<number, number>,
  origin: string,
): ServiceEndpoint {
  const locality = parseLocality(endpoint.locality);
  return {
    address: endpoint.address ?? '',
    targetPorts,
    labels: endpoint.labels ?? {},
    namespace,
    ...(endpoint.serviceAccount === undefined || endpoint.serviceAccount === ''
      ? {}
      : { serviceAccount: endpoint.serviceAccount }),
    ...(locality === undefined ? {} : { locality }),
    weight: endpoint.weight === undefined || endpoint.weight === 0 ? 1 : endpoint.weight,
    origin,
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
