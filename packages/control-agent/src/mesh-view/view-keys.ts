import type { RegisteredWorkload, ResourceRef, StoredResource } from '@weft/core';

/** Keys of the agent's view: resources and workloads share one key space, told apart by prefix. */
export function resourceViewKey(ref: ResourceRef): string {
  return `r:${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function workloadViewKey(namespace: string, name: string): string {
  return `w:${namespace}/${name}`;
}

export function isResourceViewKey(key: string): boolean {
  return key.startsWith('r:');
}

export function refOfResource(resource: StoredResource): ResourceRef {
  return { kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name };
}

export function isStoredResource(value: StoredResource | RegisteredWorkload): value is StoredResource {
  return 'kind' in value && 'metadata' in value;
}
