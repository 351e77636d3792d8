import type {
  RegisteredWorkload,
  ResourceRef,
  RevisionMark,
  StoredResource,
  TrustBundle,
  WatchFrame,
} from '@weft/core';
import type { HeldValue } from '../mesh-view/change-history.ts';
import type { MeshCache } from '../mesh-view/mesh-cache.ts';
import { isResourceViewKey, isStoredResource, refOfResource } from '../mesh-view/view-keys.ts';
import { egressScopeFor } from './egress-scope.ts';
import { isVisibleTo, type ScopeOptions } from './visibility.ts';

type SnapshotFrame = Extract<WatchFrame, { type: 'snapshot' }>;
type DeltaFrame = Extract<WatchFrame, { type: 'delta' }>;

/** Everything a client in `namespace` may see, at the view's current mark. */
export function composeSnapshot(cache: MeshCache, namespace: string, scope: ScopeOptions): SnapshotFrame {
  const resources: StoredResource[] = [];
  const egress = egressScopeFor(cache.resources(), namespace, scope);
  for (const resource of cache.resources()) {
    if (isVisibleTo(resource, namespace, scope, egress)) resources.push(resource);
  }
  resources.sort((a, b) => compareKeys(resourceOrderKey(a), resourceOrderKey(b)));
  const workloads = [...cache.workloads()].sort((a, b) =>
    compareKeys(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`),
  );
  return { type: 'snapshot', mark: cache.mark, resources, workloads };
}

/**
 * The delta that brings a client in `namespace` from the revision `changes` were taken at to
 * the view's current mark: for each changed key, what the client held then (if visible to it)
 * against what is there now (if visible). A resource whose `exportTo` stops including the
 * client's namespace is a delete for that client. `undefined` when nothing the client can see
 * changed.
 */
export function composeDelta(
  cache: MeshCache,
  changes: ReadonlyMap<string, HeldValue>,
  namespace: string,
  scope: ScopeOptions,
): DeltaFrame | undefined {
  const upserts: StoredResource[] = [];
  const deletes: ResourceRef[] = [];
  const workloadUpserts: RegisteredWorkload[] = [];
  const workloadDeletes: { namespace: string; name: string }[] = [];
  // A change to the Sidecar itself changes what is visible: FrameMemo sends a snapshot then.
  const egress = egressScopeFor(cache.resources(), namespace, scope);
  for (const [key, previous] of changes) {
    if (isResourceViewKey(key)) {
      const held = previous !== undefined && isStoredResource(previous) ? previous : undefined;
      const current = cache.resourceAt(key);
      const hadIt = held !== undefined && isVisibleTo(held, namespace, scope, egress);
      const hasIt = current !== undefined && isVisibleTo(current, namespace, scope, egress);
      if (hasIt && (!hadIt || held.metadata.resourceVersion !== current.metadata.resourceVersion)) {
        upserts.push(current);
      } else if (!hasIt && hadIt) {
        deletes.push(refOfResource(held));
      }
      continue;
    }
    const held = previous !== undefined && !isStoredResource(previous) ? previous : undefined;
    const current = cache.workloadAt(key);
    if (current !== undefined && current !== held) workloadUpserts.push(current);
    else if (current === undefined && held !== undefined) {
      workloadDeletes.push({ namespace: held.namespace, name: held.name });
    }
  }
  if (upserts.length + deletes.length + workloadUpserts.length + workloadDeletes.length === 0) {
    return undefined;
  }
  return { type: 'delta', mark: cache.mark, upserts, deletes, workloadUpserts, workloadDeletes };
}

export function heartbeatFrame(
  mark: RevisionMark,
  heartbeatMs: number,
  isConfigDumpRequested = false,
  trustBundle?: TrustBundle,
): WatchFrame {
  return {
    type: 'heartbeat',
    mark,
    heartbeatMs,
    ...(isConfigDumpRequested ? { configDumpRequested: true } : {}),
    ...(trustBundle === undefined ? {} : { trustBundle }),
  };
}

/** One NDJSON line. */
export function encodeFrame(frame: WatchFrame): string {
  return `${JSON.stringify(frame)}\n`;
}

function resourceOrderKey(resource: StoredResource): string {
  return `${resource.kind}/${resource.metadata.namespace}/${resource.metadata.name}`;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
