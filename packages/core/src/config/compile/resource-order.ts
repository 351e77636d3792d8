import type { Resource } from '../resource.ts';

/**
 * The one order used wherever several resources compete (the same host, the same selector):
 * oldest `creationTimestamp` first, then namespace, then name. Istio uses creation time too but
 * leaves ties and cross-resource order undefined; Weft makes it total so that every workload
 * and every agent resolves a conflict the same way (bad-inputs A10). A resource without a
 * timestamp (declared in code or in a file) sorts after every timestamped one.
 */
export function compareResources(a: Resource, b: Resource): number {
  const timeA =
    a.metadata.creationTimestamp === undefined
      ? Number.POSITIVE_INFINITY
      : Date.parse(a.metadata.creationTimestamp);
  const timeB =
    b.metadata.creationTimestamp === undefined
      ? Number.POSITIVE_INFINITY
      : Date.parse(b.metadata.creationTimestamp);
  if (timeA !== timeB) return timeA < timeB ? -1 : 1;
  if (a.metadata.namespace !== b.metadata.namespace)
    return a.metadata.namespace < b.metadata.namespace ? -1 : 1;
  if (a.metadata.name !== b.metadata.name) return a.metadata.name < b.metadata.name ? -1 : 1;
  return 0;
}

export function inResourceOrder<R extends Resource>(resources: readonly R[]): readonly R[] {
  return [...resources].sort(compareResources);
}
