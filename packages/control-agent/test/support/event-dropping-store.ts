import type { RegisteredWorkload, ResourceRef, RevisionMark } from '@weft/core';
import type { DeleteResult, PutResult, ResourceWrite, Store, StoreEvent } from '../../src/index.ts';

/**
 * A store whose watch silently loses the events `isLost` picks, as etcd's watch has on rare bugs
 * (bad-inputs H6): reads and writes are the real store's, only the watch lies.
 */
export class EventDroppingStore implements Store {
  readonly #inner: Store;
  readonly #isLost: (event: StoreEvent) => boolean;
  dropped = 0;

  constructor(inner: Store, isLost: (event: StoreEvent) => boolean) {
    this.#inner = inner;
    this.#isLost = isLost;
  }

  mark(): Promise<RevisionMark> {
    return this.#inner.mark();
  }
  listResources(): ReturnType<Store['listResources']> {
    return this.#inner.listResources();
  }
  getResource(ref: ResourceRef): ReturnType<Store['getResource']> {
    return this.#inner.getResource(ref);
  }
  putResources(writes: readonly ResourceWrite[]): Promise<PutResult> {
    return this.#inner.putResources(writes);
  }
  deleteResource(ref: ResourceRef, expectedResourceVersion?: string): Promise<DeleteResult> {
    return this.#inner.deleteResource(ref, expectedResourceVersion);
  }
  registerWorkload(workload: RegisteredWorkload, ttlMs: number): ReturnType<Store['registerWorkload']> {
    return this.#inner.registerWorkload(workload, ttlMs);
  }
  renewLease(leaseId: string): Promise<boolean> {
    return this.#inner.renewLease(leaseId);
  }
  deregisterWorkload(namespace: string, name: string): Promise<void> {
    return this.#inner.deregisterWorkload(namespace, name);
  }
  listWorkloads(): Promise<readonly RegisteredWorkload[]> {
    return this.#inner.listWorkloads();
  }
  async *watch(from: RevisionMark, signal: AbortSignal): AsyncIterable<StoreEvent> {
    for await (const event of this.#inner.watch(from, signal)) {
      if (this.#isLost(event)) {
        this.dropped += 1;
        continue;
      }
      yield event;
    }
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
