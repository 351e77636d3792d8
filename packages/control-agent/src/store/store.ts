import type { RegisteredWorkload, ResourceRef, RevisionMark, StoredResource } from '@weft/core';

/**
 * Where the agent keeps the mesh: config resources and workload registrations, each change at a
 * new revision. Two implementations: the embedded store (memory, persisted to a directory) and
 * etcd (several agents share one mesh). Every write is compare-and-set on `resourceVersion`
 * when the caller gives one (optimistic concurrency, as Kubernetes), and fenced by revision on
 * etcd (bad-inputs H4: never rely on locks).
 */
export interface Store {
  /** The store's identity and current revision; a wiped or restored store has a new epoch. */
  mark(): Promise<RevisionMark>;

  /** Every resource, sorted by kind/namespace/name, with the mark they were read at. */
  listResources(): Promise<{ readonly mark: RevisionMark; readonly resources: readonly StoredResource[] }>;
  getResource(ref: ResourceRef): Promise<StoredResource | undefined>;
  /**
   * Creates or updates resources in one transaction: all or none. `expectedResourceVersion`
   * (per resource) makes the write conditional; given for a resource that does not exist, it is
   * a conflict with no `actualResourceVersion`. Returns what was stored, with new
   * resourceVersion/generation/creationTimestamp/uid filled in as Kubernetes does (generation
   * grows only when `spec` changed). A write that changes nothing (same apiVersion, labels,
   * annotations and spec) is a no-op, as in Kubernetes: the stored object comes back unchanged and
   * makes no revision or event; if no write in the batch changes anything, `mark` is the current
   * one. All changed resources share one new revision (their resourceVersion).
   * Rejects with ConfigValidationError for an empty name part, a `/` in one, or a resource
   * named twice in one batch; with StoreUnavailableError when the store cannot be reached.
   */
  putResources(writes: readonly ResourceWrite[]): Promise<PutResult>;
  deleteResource(ref: ResourceRef, expectedResourceVersion?: string): Promise<DeleteResult>;

  /**
   * Registers (or replaces) a workload under a new lease that lapses after `ttlMs` without
   * renewal; the workload's previous lease, if any, stops counting. Every registration is a new
   * revision and a `workload-put` event. On etcd the TTL is rounded up to whole seconds and to
   * etcd's minimum (2 s with default settings).
   */
  registerWorkload(workload: RegisteredWorkload, ttlMs: number): Promise<{ readonly leaseId: string }>;
  /** Restarts the lease's TTL; false when it has lapsed or is unknown (register again). */
  renewLease(leaseId: string): Promise<boolean>;
  deregisterWorkload(namespace: string, name: string): Promise<void>;
  /** Every registered workload, sorted by namespace/name. */
  listWorkloads(): Promise<readonly RegisteredWorkload[]>;

  /**
   * Changes after `from` (exclusive), then live, in revision order, until the signal aborts or
   * the store closes (the iteration then simply ends). Events of one revision (a multi-resource
   * put) share its mark and arrive together. Never skips a change and never repeats one.
   * When `from` is older than the store keeps (compacted), from another epoch, or ahead of the
   * store (it went backwards: wiped or restored), or when the watcher falls too far behind, the
   * iteration yields `{ type: 'resync' }` and ENDS: the caller lists again (getting mark R) and
   * watches from R (bad-inputs H1, H5). A resync may come after other events, not only first.
   * On etcd, lost connections are retried inside the iteration (no error surfaces; events
   * resume without gap or duplicate, or a resync comes). The iteration throws only for what a
   * retry cannot fix: StoreCorruptError (a stored value it cannot read) or StoreUnavailableError
   * (etcd refused the watch itself, e.g. permission denied).
   */
  watch(from: RevisionMark, signal: AbortSignal): AsyncIterable<StoreEvent>;

  /** Ends every watch and releases the store; later calls reject with StoreUnavailableError. */
  close(): Promise<void>;
}

export interface ResourceWrite {
  readonly resource: Omit<StoredResource, 'metadata'> & {
    readonly metadata: Pick<StoredResource['metadata'], 'name' | 'namespace' | 'labels' | 'annotations'>;
  };
  readonly expectedResourceVersion?: string;
}

export type PutResult =
  | { readonly ok: true; readonly mark: RevisionMark; readonly stored: readonly StoredResource[] }
  | { readonly ok: false; readonly conflict: ResourceRef; readonly actualResourceVersion?: string };

export type DeleteResult =
  | { readonly ok: true; readonly mark: RevisionMark; readonly existed: boolean }
  | { readonly ok: false; readonly conflict: ResourceRef; readonly actualResourceVersion?: string };

export type StoreEvent =
  | { readonly type: 'put'; readonly mark: RevisionMark; readonly resource: StoredResource }
  | { readonly type: 'delete'; readonly mark: RevisionMark; readonly ref: ResourceRef }
  | { readonly type: 'workload-put'; readonly mark: RevisionMark; readonly workload: RegisteredWorkload }
  | {
      readonly type: 'workload-delete';
      readonly mark: RevisionMark;
      readonly namespace: string;
      readonly name: string;
    }
  /** The watcher fell behind what the store keeps, or the store's epoch changed: list again. */
  | { readonly type: 'resync'; readonly mark: RevisionMark };
