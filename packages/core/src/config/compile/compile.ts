import { EMPTY_REGISTRY, type Registry } from '../../registry/workload.ts';
import { type Resource, resourceKey } from '../resource.ts';
import {
  emptyResourcesByKind,
  isMeshResource,
  type MeshResource,
  type ResourcesByKind,
} from '../resources.ts';
import { indexDestinationRules } from './mesh-index.ts';
import { DEFAULT_MESH_OPTIONS, type MeshOptions } from './mesh-options.ts';
import { MeshSnapshot } from './mesh-snapshot.ts';
import { compareResources } from './resource-order.ts';
import { indexServices } from './service-index.ts';

export interface CompileOptions extends Partial<MeshOptions> {
  /** A label for the snapshot (the agent's revision); `static` when absent. */
  readonly revision?: string;
}

/**
 * Builds the immutable snapshot a workload serves from. Pure: the same resources and registry
 * always give the same snapshot. Resources must already be valid (from the parser); kinds Weft
 * does not know are ignored here, since the parser has already reported them.
 */
export function compile(
  resources: readonly Resource[],
  registry: Registry = EMPTY_REGISTRY,
  options: CompileOptions = {},
): MeshSnapshot {
  const meshOptions: MeshOptions = {
    rootNamespace: options.rootNamespace ?? DEFAULT_MESH_OPTIONS.rootNamespace,
    domainSuffix: options.domainSuffix ?? DEFAULT_MESH_OPTIONS.domainSuffix,
    defaultExportTo: options.defaultExportTo ?? DEFAULT_MESH_OPTIONS.defaultExportTo,
    outboundTrafficPolicy: options.outboundTrafficPolicy ?? DEFAULT_MESH_OPTIONS.outboundTrafficPolicy,
    crossNamespaceHostClaims:
      options.crossNamespaceHostClaims ?? DEFAULT_MESH_OPTIONS.crossNamespaceHostClaims,
    pathNormalization: options.pathNormalization ?? DEFAULT_MESH_OPTIONS.pathNormalization,
    extensionProviders: options.extensionProviders ?? DEFAULT_MESH_OPTIONS.extensionProviders,
  };
  const byKind = groupByKind(resources);
  const services = indexServices(
    {
      registry,
      kubernetesServices: byKind.Service,
      serviceEntries: byKind.ServiceEntry,
      workloadEntries: byKind.WorkloadEntry,
    },
    meshOptions,
  );
  const index = {
    resources: byKind,
    services,
    options: meshOptions,
    destinationRulesFor: indexDestinationRules(byKind.DestinationRule),
  };
  return new MeshSnapshot(index, options.revision ?? 'static');
}

/**
 * Groups resources by kind in resource order. The same kind/namespace/name given twice is one
 * resource updated: the later one replaces the earlier, as `kubectl apply` of the inputs in turn.
 */
function groupByKind(resources: readonly Resource[]): ResourcesByKind {
  const byKind = emptyResourcesByKind();
  const latest = new Map<string, MeshResource>();
  for (const resource of resources) if (isMeshResource(resource)) latest.set(resourceKey(resource), resource);
  const sorted = [...latest.values()].sort(compareResources);
  for (const resource of sorted) (byKind[resource.kind] as MeshResource[]).push(resource);
  for (const list of Object.values(byKind)) Object.freeze(list);
  return Object.freeze(byKind);
}
