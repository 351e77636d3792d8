import type { Clock, RegisteredWorkload, RevisionMark, StoredResource } from '@weft/core';
import type { AgentLogger } from '../agent/agent-logger.ts';
import type { Store, StoreEvent } from '../store/store.ts';
import { ChangeHistory, type HeldValue } from './change-history.ts';
import { resourceViewKey, workloadViewKey } from './view-keys.ts';

export interface MeshCacheListener {
  /** The view moved to a new revision (called once per store event, synchronously). */
  changed(): void;
  /** The view was replaced wholesale (store resync or new epoch): every watcher needs a snapshot. */
  reset(): void;
}

export interface MeshCacheOptions {
  readonly maxHistoryEntries: number;
  readonly clock: Clock;
  readonly logger: AgentLogger;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * The agent's in-memory view of the store: every resource and workload at one revision, and the
 * recent history of changes, kept current by following the store's watch. Watch streams are
 * served from it, so a thousand clients cost the store one watch. It is warm before anything is
 * served (`open` lists first): the agent never pushes an empty view as authoritative (B3).
 */
export class MeshCache {
  readonly #store: Store;
  readonly #options: MeshCacheOptions;
  readonly #abort = new AbortController();
  readonly #listeners = new Set<MeshCacheListener>();
  #resources = new Map<string, StoredResource>();
  #workloads = new Map<string, RegisteredWorkload>();
  #mark: RevisionMark;
  #history: ChangeHistory;
  #isFollowing = false;
  #following: Promise<void> = Promise.resolve();

  private constructor(store: Store, options: MeshCacheOptions, mark: RevisionMark) {
    this.#store = store;
    this.#options = options;
    this.#mark = mark;
    this.#history = new ChangeHistory(options.maxHistoryEntries, mark.revision);
  }

  /** Lists the store, then follows its changes until `close()`. */
  static async open(store: Store, options: MeshCacheOptions): Promise<MeshCache> {
    const listed = await store.listResources();
    const cache = new MeshCache(store, options, listed.mark);
    cache.#fill(listed.resources, await store.listWorkloads());
    cache.#following = cache.#follow();
    return cache;
  }

  get mark(): RevisionMark {
    return this.#mark;
  }

  /** Whether the store's watch is running (false while it is being re-established). */
  get isFollowing(): boolean {
    return this.#isFollowing;
  }

  resources(): IterableIterator<StoredResource> {
    return this.#resources.values();
  }

  workloads(): IterableIterator<RegisteredWorkload> {
    return this.#workloads.values();
  }

  resourceAt(key: string): StoredResource | undefined {
    return this.#resources.get(key);
  }

  workloadAt(key: string): RegisteredWorkload | undefined {
    return this.#workloads.get(key);
  }

  /** See ChangeHistory.changesSince; revisions are of the current epoch. */
  changesSince(revision: number): Map<string, HeldValue> | undefined {
    if (revision > this.#mark.revision) return undefined;
    return this.#history.changesSince(revision);
  }

  /** Whether a watcher at `mark` can be brought current with a delta. */
  canResumeFrom(mark: RevisionMark): boolean {
    return (
      mark.epoch === this.#mark.epoch &&
      mark.revision <= this.#mark.revision &&
      mark.revision >= this.#history.floorRevision
    );
  }

  subscribe(listener: MeshCacheListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#following;
  }

  async #follow(): Promise<void> {
    const signal = this.#abort.signal;
    let retryMs = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        this.#isFollowing = true;
        let isResync = false;
        for await (const event of this.#store.watch(this.#mark, signal)) {
          if (signal.aborted) return;
          if (!this.#apply(event)) {
            isResync = true;
            break;
          }
          retryMs = RETRY_MIN_MS;
        }
        if (signal.aborted) break;
        if (!isResync) {
          // The store ended the watch on its own: list again after a pause, in case it is unwell.
          this.#isFollowing = false;
          await this.#delay(retryMs);
          retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
        }
        await this.#relist();
      } catch (error) {
        this.#isFollowing = false;
        if (signal.aborted) break;
        this.#options.logger.warn('store watch failed; retrying', { error, retryMs });
        await this.#delay(retryMs);
        // The next watch starts from the last applied revision; a store that can no longer
        // serve it answers `resync` and the view is listed again.
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      }
    }
    this.#isFollowing = false;
  }

  /** Applies one event; false when the view must be listed again. */
  #apply(event: StoreEvent): boolean {
    if (event.type === 'resync' || event.mark.epoch !== this.#mark.epoch) return false;
    if (event.mark.revision < this.#mark.revision) return true; // already applied (a replay)
    const revision = event.mark.revision;
    switch (event.type) {
      case 'put': {
        const key = resourceViewKey({
          kind: event.resource.kind,
          namespace: event.resource.metadata.namespace,
          name: event.resource.metadata.name,
        });
        this.#history.record(revision, key, this.#resources.get(key));
        this.#resources.set(key, event.resource);
        break;
      }
      case 'delete': {
        const key = resourceViewKey(event.ref);
        this.#history.record(revision, key, this.#resources.get(key));
        this.#resources.delete(key);
        break;
      }
      case 'workload-put': {
        const key = workloadViewKey(event.workload.namespace, event.workload.name);
        this.#history.record(revision, key, this.#workloads.get(key));
        this.#workloads.set(key, event.workload);
        break;
      }
      case 'workload-delete': {
        const key = workloadViewKey(event.namespace, event.name);
        this.#history.record(revision, key, this.#workloads.get(key));
        this.#workloads.delete(key);
        break;
      }
    }
    this.#mark = event.mark;
    for (const listener of this.#listeners) listener.changed();
    return true;
  }

  async #relist(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    const listed = await this.#store.listResources();
    const workloads = await this.#store.listWorkloads();
    this.#resources = new Map();
    this.#workloads = new Map();
    this.#fill(listed.resources, workloads);
    this.#mark = listed.mark;
    this.#history.reset(listed.mark.revision);
    for (const listener of this.#listeners) listener.reset();
  }

  #fill(resources: readonly StoredResource[], workloads: readonly RegisteredWorkload[]): void {
    for (const resource of resources) {
      this.#resources.set(
        resourceViewKey({
          kind: resource.kind,
          namespace: resource.metadata.namespace,
          name: resource.metadata.name,
        }),
        resource,
      );
    }
    for (const workload of workloads) {
      this.#workloads.set(workloadViewKey(workload.namespace, workload.name), workload);
    }
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#abort.signal;
      const handle = this.#options.clock.setTimeout(done, ms);
      function done(): void {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }
      const onAbort = (): void => {
        this.#options.clock.clearTimeout(handle);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
