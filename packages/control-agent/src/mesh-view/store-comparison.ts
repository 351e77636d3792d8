import type { RegisteredWorkload, StoredResource } from '@weft/core';
import { resourceViewKey, workloadViewKey } from './view-keys.ts';

/** What the store listed, read at `revision` (workloads: at or after it). */
export interface StoreListing {
  readonly revision: number;
  readonly resources: readonly StoredResource[];
  readonly workloads: readonly RegisteredWorkload[];
}

/** The watch-derived view being checked, with what it changed after the listing's revision. */
export interface ViewUnderCheck {
  resourceAt(key: string): StoredResource | undefined;
  workloadAt(key: string): RegisteredWorkload | undefined;
  resourceKeys(): Iterable<string>;
  workloadKeys(): Iterable<string>;
  /** Keys the view changed after the listing's revision: they cannot be compared with it. */
  readonly changedSince: ReadonlySet<string>;
}

/**
 * The keys on which a watch-derived view disagrees with a listing of the store (bad-inputs H6:
 * a watch that silently lost or reordered an event). Keys the view changed after the listing was
 * read are skipped, since either side may be the newer. Resources are compared by
 * resourceVersion (the store's revision of their last write); workloads, which carry no
 * revision, by value.
 */
export function divergentKeys(listing: StoreListing, view: ViewUnderCheck): string[] {
  const divergent: string[] = [];
  const listedResources = new Set<string>();
  for (const resource of listing.resources) {
    const { kind, metadata } = resource;
    const key = resourceViewKey({ kind, namespace: metadata.namespace, name: metadata.name });
    listedResources.add(key);
    if (view.changedSince.has(key)) continue;
    if (view.resourceAt(key)?.metadata.resourceVersion !== metadata.resourceVersion) divergent.push(key);
  }
  for (const key of view.resourceKeys()) {
    if (!listedResources.has(key) && !view.changedSince.has(key)) divergent.push(key);
  }
  const listedWorkloads = new Set<string>();
  for (const workload of listing.workloads) {
    const key = workloadViewKey(workload.namespace, workload.name);
    listedWorkloads.add(key);
    if (view.changedSince.has(key)) continue;
    const held = view.workloadAt(key);
    if (held === undefined || JSON.stringify(held) !== JSON.stringify(workload)) divergent.push(key);
  }
  for (const key of view.workloadKeys()) {
    if (!listedWorkloads.has(key) && !view.changedSince.has(key)) divergent.push(key);
  }
  return divergent;
}
