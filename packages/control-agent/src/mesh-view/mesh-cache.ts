import type { Clock, RegisteredWorkload, RevisionMark, StoredResource } from '@weft/core';
import type { AgentLogger } from '../agent/agent-logger.ts';
import type { Store, StoreEvent } from '../store/store.ts';
import { ChangeHistory, type HeldValue } from './change-history.ts';
import { divergentKeys } from './store-comparison.ts';
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
  /** How often the view is compared with a full listing of the store (H6); 0 turns it off. */
  readonly selfCheckIntervalMs?: number;
}

/** What the periodic comparison with the store has found (served in `/healthz`). */
export interface SelfCheckStats {
  readonly runs: number;
  readonly repairs: number;
  readonly lastRunAtMs: number | undefined;
  /** The keys that disagreed the last time the view was repaired (at most 20), and why. */
  readonly lastRepair:
    | { readonly atMs: number; readonly reason: string; readonly keys: readonly string[] }
    | undefined;
}

/** One comparison of the view with the store: `keys` disagreed (at most all of them). */
export interface SelfCheckOutcome {
  readonly isConsistent: boolean;
  readonly reason?: string;
  readonly keys: readonly string[];
}

const CONSISTENT: SelfCheckOutcome = { isConsistent: true, keys: [] };

/** How long a self-check waits for the watch to deliver what the store listed. */
const SELF_CHECK_CATCH_UP_MS = 5_000;

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
  #checking: Promise<void> = Promise.resolve();
  /** Ends the current store watch early so that the view is listed again (a self-check repair). */
  #watchAbort: AbortController | undefined;
  #selfCheck: SelfCheckStats = { runs: 0, repairs: 0, lastRunAtMs: undefined, lastRepair: undefined };

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
    cache.#checking = cache.#selfCheckLoop();
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
    await Promise.all([this.#following, this.#checking]);
  }

  get selfCheck(): SelfCheckStats {
    return this.#selfCheck;
  }

  /**
   * Lists the store and compares the listing with the view (bad-inputs H6: etcd's watch has had
   * rare bugs that lose events). On a disagreement, or when the watch does not deliver what the
   * store already holds within a few seconds (a silent stall, H3), the view is listed again and
   * every client is sent a snapshot. `catchUpMs` is how long the watch may take to deliver what
   * the store listed.
   */
  async checkAgainstStore(catchUpMs = SELF_CHECK_CATCH_UP_MS): Promise<SelfCheckOutcome> {
    const listed = await this.#store.listResources();
    const workloads = await this.#store.listWorkloads();
    const after = await this.#store.mark();
    this.#selfCheck = { ...this.#selfCheck, runs: this.#selfCheck.runs + 1, lastRunAtMs: Date.now() };
    // A new epoch is the watch's to notice (it answers resync); comparing across one means nothing.
    if (listed.mark.epoch !== this.#mark.epoch || after.epoch !== this.#mark.epoch) return CONSISTENT;
    const isCaughtUp = await this.#reaches(after.revision, catchUpMs);
    // Behind the listing, every key the view lacks a change for is compared (and likely differs).
    const changed = isCaughtUp ? this.#history.changesSince(listed.mark.revision) : new Map();
    if (changed === undefined) return CONSISTENT; // so much changed meanwhile that nothing compares
    const keys = divergentKeys(
      { revision: listed.mark.revision, resources: listed.resources, workloads },
      {
        resourceAt: (key) => this.#resources.get(key),
        workloadAt: (key) => this.#workloads.get(key),
        resourceKeys: () => this.#resources.keys(),
        workloadKeys: () => this.#workloads.keys(),
        changedSince: new Set(changed.keys()),
      },
    );
    if (isCaughtUp && keys.length === 0) return CONSISTENT;
    const reason = isCaughtUp
      ? `${keys.length} entries differ from the store`
      : `the store is at revision ${after.revision} and the watch delivered only ${this.#mark.revision} within ${catchUpMs} ms`;
    this.#repair(reason, keys);
    return { isConsistent: false, reason, keys };
  }

  #repair(reason: string, keys: readonly string[]): void {
    const shown = keys.slice(0, 20);
    this.#options.logger.warn('the view disagrees with the store; listing it again', { reason, keys: shown });
    this.#selfCheck = {
      ...this.#selfCheck,
      repairs: this.#selfCheck.repairs + 1,
      lastRepair: { atMs: Date.now(), reason, keys: shown },
    };
    this.#watchAbort?.abort();
  }

  /** Whether the view reaches `revision` within `timeoutMs`. */
  #reaches(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.#mark.revision >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const settle = (reached: boolean): void => {
        unsubscribe();
        this.#options.clock.clearTimeout(timer);
        resolve(reached);
      };
      const check = (): void => {
        if (this.#mark.revision >= revision) settle(true);
      };
      const unsubscribe = this.subscribe({ changed: check, reset: check });
      const timer = this.#options.clock.setTimeout(() => settle(this.#mark.revision >= revision), timeoutMs);
    });
  }

  async #selfCheckLoop(): Promise<void> {
    const intervalMs = this.#options.selfCheckIntervalMs ?? 0;
    if (!(intervalMs > 0)) return;
    while (!this.#abort.signal.aborted) {
      await this.#delay(intervalMs);
      if (this.#abort.signal.aborted) return;
      try {
        await this.checkAgainstStore(Math.min(SELF_CHECK_CATCH_UP_MS, intervalMs));
      } catch (error) {
        // An unreachable store is /healthz's to report; the next round tries again.
        this.#options.logger.warn('self-check could not list the store', { error });
      }
    }
  }

  async #follow(): Promise<void> {
    const signal = this.#abort.signal;
    let retryMs = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        this.#isFollowing = true;
        let isResync = false;
        const watchAbort = new AbortController();
        this.#watchAbort = watchAbort;
        for await (const event of this.#store.watch(
          this.#mark,
          AbortSignal.any([signal, watchAbort.signal]),
        )) {
          if (signal.aborted) return;
          if (watchAbort.signal.aborted || !this.#apply(event)) {
            isResync = true;
            break;
          }
          retryMs = RETRY_MIN_MS;
        }
        if (signal.aborted) break;
        if (watchAbort.signal.aborted) isResync = true; // a self-check found the view wrong
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
