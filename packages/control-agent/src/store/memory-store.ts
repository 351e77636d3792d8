import { randomUUID as cryptoRandomUUID } from 'node:crypto';
import {
  type Clock,
  type RegisteredWorkload,
  type ResourceRef,
  type RevisionMark,
  type StoredResource,
  systemClock,
  type TimerHandle,
} from '@weft/core';
import { type ChangeOp, DataDirectory, type StoreState, type WorkloadRecord } from './data-directory.ts';
import { frozenJsonCopy } from './json-value.ts';
import { readRecordFile, writeRecordFile } from './record-file.ts';
import { checkRecordName } from './record-name.ts';
import type { RecordPutResult, RecordStore, StoredRecord } from './record-store.ts';
import { formatTimestamp, normalizeWrites, planResourceWrite } from './resource-write.ts';
import type { DeleteResult, PutResult, ResourceWrite, Store, StoreEvent } from './store.ts';
import { StoreUnavailableError } from './store-errors.ts';
import {
  checkResourceRef,
  checkWorkload,
  compareResources,
  compareStrings,
  refOf,
  resourceKey,
  workloadKey,
} from './store-keys.ts';
import { WatchQueue } from './watch-queue.ts';

export interface MemoryStoreOptions {
  /**
   * Where the store persists itself (created if missing). Absent: memory only, lost on exit.
   * A missing or emptied directory starts a new epoch.
   */
  readonly dataDir?: string;
  /** Drives lease timers; the system's monotonic clock by default. */
  readonly clock?: Clock;
  /** Wall-clock time for `creationTimestamp`. */
  readonly wallClock?: () => Date;
  /** uids, lease ids and epochs; node:crypto's randomUUID by default. */
  readonly randomUUID?: () => string;
  /** How many past changes `watch(from)` can replay before it answers `resync`. */
  readonly historyLimit?: number;
  /** Revisions appended to the log before it is folded into a new snapshot. */
  readonly compactAfterChanges?: number;
  /** Failures with no caller to reject: a lease expiry or a compaction that could not be written. */
  readonly onBackgroundError?: (error: unknown) => void;
}

export const DEFAULT_HISTORY_LIMIT = 10_000;
export const DEFAULT_COMPACT_AFTER_CHANGES = 1_000;
/** When a lapsed lease could not be written down, try again after this long. */
const LEASE_EXPIRY_RETRY_MS = 1_000;

interface Lease {
  readonly id: string;
  readonly key: string;
  readonly ttlMs: number;
  expiresAtMs: number;
  timer: TimerHandle;
}

/**
 * The embedded store: everything in memory, every write serialized, optionally persisted to a
 * data directory (snapshot + append-only log, see DataDirectory) before it is acknowledged or
 * seen by a watcher. Revisions are a counter kept with the data; the epoch is created with the
 * data directory. Leases are timers on the injected Clock; a registration restored from disk
 * gets a full TTL again (as etcd does after a leader change).
 */
export class MemoryStore implements Store, RecordStore {
  readonly #clock: Clock;
  readonly #wallClock: () => Date;
  readonly #randomUUID: () => string;
  readonly #historyLimit: number;
  readonly #compactAfterChanges: number;
  readonly #onBackgroundError: (error: unknown) => void;
  readonly #directory: DataDirectory | undefined;
  readonly #epoch: string;
  #revision = 0;
  readonly #resources = new Map<string, StoredResource>();
  readonly #workloads = new Map<string, WorkloadRecord>();
  readonly #leases = new Map<string, Lease>();
  /** Agent-private records (see Store.putRecord), persisted beside the snapshot in records.json. */
  readonly #records = new Map<string, StoredRecord>();
  #nextRecordVersion = 1;
  /** Every change after `#historyFloor`, oldest first. */
  #history: StoreEvent[] = [];
  #historyFloor = 0;
  readonly #watchers = new Set<WatchQueue<StoreEvent>>();
  #tail: Promise<unknown> = Promise.resolve();
  #isClosed = false;

  private constructor(options: MemoryStoreOptions, directory: DataDirectory | undefined, epoch: string) {
    this.#clock = options.clock ?? systemClock;
    this.#wallClock = options.wallClock ?? (() => new Date());
    this.#randomUUID = options.randomUUID ?? cryptoRandomUUID;
    this.#historyLimit = positiveInteger('historyLimit', options.historyLimit ?? DEFAULT_HISTORY_LIMIT);
    this.#compactAfterChanges = positiveInteger(
      'compactAfterChanges',
      options.compactAfterChanges ?? DEFAULT_COMPACT_AFTER_CHANGES,
    );
    this.#onBackgroundError = options.onBackgroundError ?? reportAsWarning;
    this.#directory = directory;
    this.#epoch = epoch;
  }

  /** Opens the store, reading back its data directory when it has one. */
  static async open(options: MemoryStoreOptions = {}): Promise<MemoryStore> {
    const randomUUID = options.randomUUID ?? cryptoRandomUUID;
    if (options.dataDir === undefined) return new MemoryStore(options, undefined, randomUUID());
    const { directory, state, changes } = await DataDirectory.open(options.dataDir, randomUUID);
    const store = new MemoryStore(options, directory, state.epoch);
    store.#restore(state, changes);
    try {
      const records = await readRecordFile(directory.path);
      store.#nextRecordVersion = records.nextVersion;
      for (const record of records.records) store.#records.set(record.name, record);
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** The data directory, when the store persists. */
  get dataDir(): string | undefined {
    return this.#directory?.path;
  }

  mark(): Promise<RevisionMark> {
    return this.#serialize(() => this.#mark());
  }

  listResources(): Promise<{ readonly mark: RevisionMark; readonly resources: readonly StoredResource[] }> {
    return this.#serialize(() => ({
      mark: this.#mark(),
      resources: [...this.#resources.values()].sort(compareResources),
    }));
  }

  getResource(ref: ResourceRef): Promise<StoredResource | undefined> {
    return this.#serialize(() => this.#resources.get(resourceKey(checkResourceRef(ref))));
  }

  putResources(writes: readonly ResourceWrite[]): Promise<PutResult> {
    return this.#serialize(async (): Promise<PutResult> => {
      const normalized = normalizeWrites(writes);
      for (const write of normalized) {
        const actual = this.#resources.get(write.key)?.metadata.resourceVersion;
        if (write.expectedResourceVersion !== undefined && write.expectedResourceVersion !== actual) {
          return { ok: false, conflict: write.ref, actualResourceVersion: actual };
        }
      }
      const revision = this.#revision + 1;
      const created = () => ({
        uid: this.#randomUUID(),
        creationTimestamp: formatTimestamp(this.#wallClock()),
      });
      const stored: StoredResource[] = [];
      const ops: ChangeOp[] = [];
      for (const write of normalized) {
        const existing = this.#resources.get(write.key);
        const next = planResourceWrite(existing, write, revision, created);
        if (next === undefined) {
          stored.push(existing as StoredResource);
        } else {
          stored.push(next);
          ops.push({ op: 'put', resource: next });
        }
      }
      const mark = ops.length === 0 ? this.#mark() : await this.#commit(ops);
      return { ok: true, mark, stored };
    });
  }

  deleteResource(ref: ResourceRef, expectedResourceVersion?: string): Promise<DeleteResult> {
    return this.#serialize(async (): Promise<DeleteResult> => {
      const checked = checkResourceRef(ref);
      const actual = this.#resources.get(resourceKey(checked))?.metadata.resourceVersion;
      if (expectedResourceVersion !== undefined && expectedResourceVersion !== actual) {
        return { ok: false, conflict: checked, actualResourceVersion: actual };
      }
      if (actual === undefined) return { ok: true, mark: this.#mark(), existed: false };
      return { ok: true, mark: await this.#commit([{ op: 'delete', ref: checked }]), existed: true };
    });
  }

  registerWorkload(workload: RegisteredWorkload, ttlMs: number): Promise<{ readonly leaseId: string }> {
    return this.#serialize(async () => {
      checkWorkload(workload, ttlMs);
      const record: WorkloadRecord = {
        workload: frozenJsonCopy(workload),
        leaseId: this.#randomUUID(),
        ttlMs,
      };
      await this.#commit([{ op: 'workload-put', record }]);
      return { leaseId: record.leaseId };
    });
  }

  renewLease(leaseId: string): Promise<boolean> {
    return this.#serialize(() => {
      const lease = this.#leases.get(leaseId);
      if (lease === undefined) return false;
      this.#clock.clearTimeout(lease.timer);
      this.#armLease(lease, lease.ttlMs);
      return true;
    });
  }

  deregisterWorkload(namespace: string, name: string): Promise<void> {
    return this.#serialize(async () => {
      checkWorkload({ namespace, name }, 1);
      if (!this.#workloads.has(workloadKey(namespace, name))) return;
      await this.#commit([{ op: 'workload-delete', namespace, name }]);
    });
  }

  listWorkloads(): Promise<readonly RegisteredWorkload[]> {
    return this.#serialize(() =>
      [...this.#workloads.entries()]
        .sort(([a], [b]) => compareStrings(a, b))
        .map(([, record]) => record.workload),
    );
  }

  getRecord(name: string): Promise<StoredRecord | undefined> {
    return this.#serialize(() => this.#records.get(checkRecordName(name)));
  }

  putRecord(name: string, value: unknown, expectedVersion: string | null): Promise<RecordPutResult> {
    return this.#serialize(async (): Promise<RecordPutResult> => {
      const current = this.#records.get(checkRecordName(name));
      if ((current?.version ?? null) !== expectedVersion) return { ok: false, current };
      const record: StoredRecord = frozenJsonCopy({ name, version: String(this.#nextRecordVersion), value });
      const records = new Map(this.#records).set(name, record);
      // Durable before it is visible, as resource writes are.
      if (this.#directory !== undefined) {
        await writeRecordFile(this.#directory.path, {
          nextVersion: this.#nextRecordVersion + 1,
          records: [...records.values()],
        });
      }
      this.#nextRecordVersion += 1;
      this.#records.set(name, record);
      return { ok: true, record };
    });
  }

  async *watch(from: RevisionMark, signal: AbortSignal): AsyncIterable<StoreEvent> {
    if (this.#isClosed) throw closedError();
    const queue = new WatchQueue<StoreEvent>(this.#historyLimit);
    const mark = this.#mark();
    if (
      from.epoch !== this.#epoch ||
      !Number.isSafeInteger(from.revision) ||
      from.revision > this.#revision ||
      from.revision < this.#historyFloor
    ) {
      queue.finishWith({ type: 'resync', mark });
    } else {
      for (const event of this.#history) {
        if (event.mark.revision > from.revision) queue.push(event);
      }
      this.#watchers.add(queue);
    }
    try {
      yield* queue.drain(signal);
    } finally {
      this.#watchers.delete(queue);
    }
  }

  /** Waits for queued operations, stops lease timers and watchers, and folds the log into a snapshot. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#tail;
    for (const lease of this.#leases.values()) this.#clock.clearTimeout(lease.timer);
    for (const watcher of this.#watchers) watcher.finish();
    this.#watchers.clear();
    if (this.#directory !== undefined) {
      try {
        if (this.#directory.changesSinceSnapshot > 0) await this.#directory.compact(this.#state());
      } finally {
        await this.#directory.close();
      }
    }
  }

  #serialize<T>(operation: () => T | Promise<T>): Promise<T> {
    if (this.#isClosed) return Promise.reject(closedError());
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #mark(): RevisionMark {
    return Object.freeze({ epoch: this.#epoch, revision: this.#revision });
  }

  /** Makes `ops` one new revision: durable first, then visible, then announced. */
  async #commit(ops: readonly ChangeOp[]): Promise<RevisionMark> {
    const revision = this.#revision + 1;
    await this.#directory?.append({ revision, ops });
    this.#revision = revision;
    const events = ops.map((op) => this.#apply(op, revision, true));
    this.#remember(events);
    this.#publish(events);
    if (this.#directory !== undefined && this.#directory.changesSinceSnapshot >= this.#compactAfterChanges) {
      // The change is already durable in the log; a failed compaction only delays the next one.
      await this.#directory.compact(this.#state()).catch(this.#onBackgroundError);
    }
    return this.#mark();
  }

  #apply(op: ChangeOp, revision: number, isLive: boolean): StoreEvent {
    const mark = Object.freeze({ epoch: this.#epoch, revision });
    switch (op.op) {
      case 'put':
        this.#resources.set(resourceKey(refOf(op.resource)), op.resource);
        return { type: 'put', mark, resource: op.resource };
      case 'delete':
        this.#resources.delete(resourceKey(op.ref));
        return { type: 'delete', mark, ref: op.ref };
      case 'workload-put': {
        const key = workloadKey(op.record.workload.namespace, op.record.workload.name);
        this.#dropLease(this.#workloads.get(key)?.leaseId);
        this.#workloads.set(key, op.record);
        if (isLive) this.#startLease(op.record);
        return { type: 'workload-put', mark, workload: op.record.workload };
      }
      case 'workload-delete': {
        const key = workloadKey(op.namespace, op.name);
        this.#dropLease(this.#workloads.get(key)?.leaseId);
        this.#workloads.delete(key);
        return { type: 'workload-delete', mark, namespace: op.namespace, name: op.name };
      }
    }
  }

  #remember(events: readonly StoreEvent[]): void {
    this.#history.push(...events);
    if (this.#history.length <= this.#historyLimit) return;
    // Forget whole revisions only, so that "everything after #historyFloor" stays true.
    let cut = this.#history.length - this.#historyLimit;
    const floor = (this.#history[cut - 1] as StoreEvent).mark.revision;
    while (cut < this.#history.length && (this.#history[cut] as StoreEvent).mark.revision === floor) cut += 1;
    this.#history = this.#history.slice(cut);
    this.#historyFloor = floor;
  }

  #publish(events: readonly StoreEvent[]): void {
    for (const watcher of this.#watchers) {
      for (const event of events) {
        if (!watcher.push(event)) {
          // Too far behind: drop its backlog; it lists again and resumes from there.
          watcher.finishWith({ type: 'resync', mark: this.#mark() });
          this.#watchers.delete(watcher);
          break;
        }
      }
    }
  }

  #restore(state: StoreState, changes: readonly { revision: number; ops: readonly ChangeOp[] }[]): void {
    this.#revision = state.revision;
    this.#historyFloor = state.revision;
    for (const resource of state.resources)
      this.#resources.set(resourceKey(refOf(resource)), deepFrozen(resource));
    for (const record of state.workloads) {
      this.#workloads.set(workloadKey(record.workload.namespace, record.workload.name), deepFrozen(record));
    }
    for (const change of changes) {
      this.#revision = change.revision;
      this.#remember(change.ops.map((op) => this.#apply(deepFrozen(op), change.revision, false)));
    }
    for (const record of this.#workloads.values()) this.#startLease(record);
  }

  #state(): StoreState {
    return {
      epoch: this.#epoch,
      revision: this.#revision,
      resources: [...this.#resources.values()],
      workloads: [...this.#workloads.values()],
    };
  }

  #startLease(record: WorkloadRecord): void {
    const lease: Lease = {
      id: record.leaseId,
      key: workloadKey(record.workload.namespace, record.workload.name),
      ttlMs: record.ttlMs,
      expiresAtMs: 0,
      timer: { id: undefined },
    };
    this.#leases.set(lease.id, lease);
    this.#armLease(lease, lease.ttlMs);
  }

  #armLease(lease: Lease, delayMs: number): void {
    lease.expiresAtMs = this.#clock.now() + delayMs;
    lease.timer = this.#clock.setTimeout(() => {
      this.#serialize(() => this.#expireLease(lease)).catch((error: unknown) => {
        if (this.#isClosed) return;
        this.#onBackgroundError(error);
        if (this.#leases.get(lease.id) === lease)
          this.#armLease(lease, Math.min(lease.ttlMs, LEASE_EXPIRY_RETRY_MS));
      });
    }, delayMs);
  }

  async #expireLease(lease: Lease): Promise<void> {
    // Renewed after this timer fired but before it ran: the renewal armed a new timer.
    if (this.#leases.get(lease.id) !== lease || lease.expiresAtMs > this.#clock.now()) return;
    const record = this.#workloads.get(lease.key);
    if (record === undefined || record.leaseId !== lease.id) {
      this.#leases.delete(lease.id);
      return;
    }
    await this.#commit([
      { op: 'workload-delete', namespace: record.workload.namespace, name: record.workload.name },
    ]);
  }

  #dropLease(leaseId: string | undefined): void {
    if (leaseId === undefined) return;
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) return;
    this.#clock.clearTimeout(lease.timer);
    this.#leases.delete(leaseId);
  }
}

function closedError(): StoreUnavailableError {
  return new StoreUnavailableError('the store is closed');
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function deepFrozen<T>(value: T): T {
  return frozenJsonCopy(value);
}

function reportAsWarning(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : String(error), { code: 'WEFT_STORE' });
}
