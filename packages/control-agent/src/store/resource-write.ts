import { ConfigValidationError, type ResourceRef, type StoredResource } from '@weft/core';
import { frozenJsonCopy, jsonEqual } from './json-value.ts';
import type { ResourceWrite } from './store.ts';
import { checkResourceRef, refOf, resourceKey } from './store-keys.ts';

/** A write checked and copied: its ref, and the caller's fields as they will be stored. */
export interface NormalizedWrite {
  readonly ref: ResourceRef;
  readonly key: string;
  readonly apiVersion: string;
  readonly labels: Readonly<Record<string, string>> | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
  readonly spec: unknown;
  readonly expectedResourceVersion: string | undefined;
}

/** Checks a batch: valid names, and no resource named twice (the outcome would be ambiguous). */
export function normalizeWrites(writes: readonly ResourceWrite[]): NormalizedWrite[] {
  const seen = new Set<string>();
  return writes.map((write) => {
    const ref = checkResourceRef(refOf(write.resource));
    const key = resourceKey(ref);
    if (seen.has(key)) {
      throw new ConfigValidationError([
        {
          severity: 'error',
          code: 'duplicate-resource',
          resource: key,
          path: '',
          message: 'the same resource appears twice in one write',
          location: { file: '<store>' },
        },
      ]);
    }
    seen.add(key);
    const { labels, annotations } = write.resource.metadata;
    return {
      ref,
      key,
      apiVersion: String(write.resource.apiVersion),
      labels: nonEmpty(labels),
      annotations: nonEmpty(annotations),
      spec: frozenJsonCopy(write.resource.spec ?? null),
      expectedResourceVersion: write.expectedResourceVersion,
    };
  });
}

/**
 * What a write makes of the resource, as Kubernetes does it: `undefined` when nothing would
 * change (no new revision); otherwise the object to store at `revision`, whose generation grows
 * only when `spec` changed and whose uid and creationTimestamp are kept from the first write.
 */
export function planResourceWrite(
  existing: StoredResource | undefined,
  write: NormalizedWrite,
  revision: number,
  created: () => { readonly uid: string; readonly creationTimestamp: string },
): StoredResource | undefined {
  const specChanged = existing === undefined || !jsonEqual(existing.spec, write.spec);
  if (
    existing !== undefined &&
    !specChanged &&
    existing.apiVersion === write.apiVersion &&
    jsonEqual(existing.metadata.labels, write.labels) &&
    jsonEqual(existing.metadata.annotations, write.annotations)
  ) {
    return undefined;
  }
  const identity = existing?.metadata ?? created();
  return frozenJsonCopy({
    apiVersion: write.apiVersion,
    kind: write.ref.kind,
    metadata: {
      name: write.ref.name,
      namespace: write.ref.namespace,
      labels: write.labels,
      annotations: write.annotations,
      creationTimestamp: identity.creationTimestamp,
      resourceVersion: String(revision),
      generation: existing === undefined ? 1 : existing.metadata.generation + (specChanged ? 1 : 0),
      uid: identity.uid,
    },
    spec: write.spec,
  });
}

/** Kubernetes' creationTimestamp: RFC 3339 in UTC, whole seconds. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function nonEmpty(
  map: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  return map === undefined || Object.keys(map).length === 0 ? undefined : frozenJsonCopy(map);
}
