import { randomUUID as cryptoRandomUUID } from 'node:crypto';
import {
  type Clock,
  ConfigValidationError,
  type Random,
  type RegisteredWorkload,
  type ResourceRef,
  type RevisionMark,
  type StoredResource,
  systemClock,
  systemRandom,
} from '@weft/core';
import type { IRequestOp } from 'etcd3';
import { EtcdAgentDirectory } from '../peers/etcd-agent-directory.ts';
import { decodeResource, decodeWorkload, EtcdLayout, encodeResource, encodeWorkload } from './etcd-codec.ts';
import { EtcdSession, MAX_ATTEMPTS, modRevisionIs, rangeKvs } from './etcd-session.ts';
import { closeStream, EtcdWatch } from './etcd-watch.ts';
import { frozenJsonCopy } from './json-value.ts';
import { checkRecordName } from './record-name.ts';
import type { RecordPutResult, RecordStore, StoredRecord } from './record-store.ts';
import { formatTimestamp, normalizeWrites, planResourceWrite } from './resource-write.ts';
import type { DeleteResult, PutResult, ResourceWrite, Store, StoreEvent } from './store.ts';
import { StoreCorruptError } from './store-errors.ts';
import { checkResourceRef, checkWorkload, compareResources } from './store-keys.ts';

export interface EtcdStoreOptions {
  /** etcd client URLs, `http://host:2379` or `host:2379`; several for a cluster. */
  readonly endpoints: string | readonly string[];
  /** Where the mesh lives in etcd; `/weft` by default. Several meshes can share one etcd. */
  readonly prefix?: string;
  /** Deadline of every unary etcd call; 5 s by default. */
  readonly requestTimeoutMs?: number;
  /** Timers of the watch (progress requests, stall detection, reconnection back-off). */
  readonly clock?: Clock;
  readonly random?: Random;
  readonly wallClock?: () => Date;
  readonly randomUUID?: () => string;
  /** Events a watcher may have unread before it is told to resync; 10,000 by default. */
  readonly watchBufferLimit?: number;
  readonly reconnectDelayMs?: { readonly initial: number; readonly max: number };
  /** How often a watch asks etcd for progress; silence for twice this is a stall. 5 s by default. */
  readonly progressIntervalMs?: number;
  /** etcd's `--max-txn-ops` (128 by default): a put of more resources is refused up front. */
  readonly maxTxnOps?: number;
  /** Watch disconnections and epoch changes: nothing to reject, but worth knowing. */
  readonly onBackgroundError?: (error: unknown) => void;
}

/**
 * The store on etcd, for several agents sharing one mesh. Revision = etcd's header revision;
 * resourceVersion = the key's mod_revision. Every write is one transaction guarded by the
 * epoch key's value and by each touched key's mod_revision (bad-inputs H4: fencing by revision,
 * never locks); a multi-resource put is one transaction. Workload leases are etcd leases.
 * etcd3's built-in retries and circuit breaker are switched off: a failed call rejects at once
 * with a StoreUnavailableError naming the endpoint (a hidden retry of a compare-and-swap whose
 * answer was lost would report a conflict with the caller's own write).
 */
export class EtcdStore implements Store, RecordStore {
  readonly #session: EtcdSession;
  readonly #layout: EtcdLayout;
  readonly #requestTimeoutMs: number;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #wallClock: () => Date;
  readonly #randomUUID: () => string;
  readonly #watchBufferLimit: number;
  readonly #reconnectDelayMs: { readonly initial: number; readonly max: number };
  readonly #progressIntervalMs: number;
  readonly #maxTxnOps: number;
  readonly #onBackgroundError: (error: unknown) => void;
  readonly #watches = new Set<EtcdWatch>();
  #agents: EtcdAgentDirectory | undefined;

  private constructor(options: EtcdStoreOptions) {
    this.#layout = new EtcdLayout(options.prefix ?? '/weft');
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? systemRandom;
    this.#wallClock = options.wallClock ?? (() => new Date());
    this.#randomUUID = options.randomUUID ?? cryptoRandomUUID;
    this.#watchBufferLimit = options.watchBufferLimit ?? 10_000;
    this.#reconnectDelayMs = options.reconnectDelayMs ?? { initial: 100, max: 2_000 };
    this.#progressIntervalMs = options.progressIntervalMs ?? 5_000;
    this.#maxTxnOps = options.maxTxnOps ?? 128;
    this.#onBackgroundError = options.onBackgroundError ?? reportAsWarning;
    this.#session = new EtcdSession({
      endpoints: typeof options.endpoints === 'string' ? [options.endpoints] : options.endpoints,
      layout: this.#layout,
      requestTimeoutMs: this.#requestTimeoutMs,
      randomUUID: this.#randomUUID,
      onBackgroundError: this.#onBackgroundError,
    });
  }

  /** Connects, and creates the epoch if this etcd has none; rejects when etcd is unreachable. */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      await store.mark();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  get endpoints(): string {
    return this.#session.endpoints;
  }

  /** The agents sharing this etcd, each under its lease (peers/agent-directory.ts). */
  get agents(): EtcdAgentDirectory {
    this.#agents ??= new EtcdAgentDirectory(this.#session, this.#layout.prefix, (leaseId) =>
      this.renewLease(leaseId),
    );
    return this.#agents;
  }

  async mark(): Promise<RevisionMark> {
    return (await this.#session.read([])).mark;
  }

  async listResources(): Promise<{
    readonly mark: RevisionMark;
    readonly resources: readonly StoredResource[];
  }> {
    const { mark, responses } = await this.#session.read([{ request_range: this.#layout.resources }]);
    const resources = rangeKvs(responses[0]).map(decodeResource).sort(compareResources);
    return { mark, resources };
  }

  async getResource(ref: ResourceRef): Promise<StoredResource | undefined> {
    const key = this.#layout.resourceKey(checkResourceRef(ref));
    const { responses } = await this.#session.read([{ request_range: { key } }]);
    const kv = rangeKvs(responses[0])[0];
    return kv === undefined ? undefined : decodeResource(kv);
  }

  async putResources(writes: readonly ResourceWrite[]): Promise<PutResult> {
    const normalized = normalizeWrites(writes);
    if (normalized.length + 1 > this.#maxTxnOps) {
      throw new ConfigValidationError([
        {
          severity: 'error',
          code: 'too-many-resources',
          resource: `${normalized.length} resources`,
          path: '',
          message: `etcd takes at most ${this.#maxTxnOps - 1} resources in one all-or-none write (its --max-txn-ops is ${this.#maxTxnOps})`,
          location: { file: '<store>' },
        },
      ]);
    }
    const keys = normalized.map((write) => this.#layout.resourceKey(write.ref));
    const created = () => ({
      uid: this.#randomUUID(),
      creationTimestamp: formatTimestamp(this.#wallClock()),
    });
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const { mark, responses } = await this.#session.read(keys.map((key) => ({ request_range: { key } })));
      const current = responses.map((response) => rangeKvs(response)[0]);
      for (const [index, write] of normalized.entries()) {
        const actual = current[index]?.mod_revision;
        if (write.expectedResourceVersion !== undefined && write.expectedResourceVersion !== actual) {
          return { ok: false, conflict: write.ref, actualResourceVersion: actual };
        }
      }
      const planned = normalized.map((write, index) => {
        const kv = current[index];
        const existing = kv === undefined ? undefined : decodeResource(kv);
        return { existing, next: planResourceWrite(existing, write, 0, created) };
      });
      const puts: IRequestOp[] = [];
      for (const [index, plan] of planned.entries()) {
        if (plan.next !== undefined) {
          puts.push({ request_put: { key: keys[index], value: encodeResource(plan.next) } });
        }
      }
      if (puts.length === 0) {
        return { ok: true, mark, stored: planned.map((plan) => plan.existing as StoredResource) };
      }
      const compares = keys.map((key, index) => modRevisionIs(key, current[index]?.mod_revision ?? 0));
      const revision = await this.#session.commit('put', mark.epoch, compares, puts);
      if (revision === undefined) continue; // lost a race: read again (expectations re-checked)
      const resourceVersion = String(revision);
      const stored = planned.map((plan) =>
        plan.next === undefined
          ? (plan.existing as StoredResource)
          : frozenJsonCopy({ ...plan.next, metadata: { ...plan.next.metadata, resourceVersion } }),
      );
      return { ok: true, mark: { epoch: mark.epoch, revision }, stored };
    }
    throw this.#session.contention('put');
  }

  async deleteResource(ref: ResourceRef, expectedResourceVersion?: string): Promise<DeleteResult> {
    const checked = checkResourceRef(ref);
    const key = this.#layout.resourceKey(checked);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const { mark, responses } = await this.#session.read([{ request_range: { key } }]);
      const actual = rangeKvs(responses[0])[0]?.mod_revision;
      if (expectedResourceVersion !== undefined && expectedResourceVersion !== actual) {
        return { ok: false, conflict: checked, actualResourceVersion: actual };
      }
      if (actual === undefined) return { ok: true, mark, existed: false };
      const revision = await this.#session.commit(
        'delete',
        mark.epoch,
        [modRevisionIs(key, actual)],
        [{ request_delete_range: { key } }],
      );
      if (revision !== undefined) return { ok: true, mark: { epoch: mark.epoch, revision }, existed: true };
    }
    throw this.#session.contention('delete');
  }

  async registerWorkload(workload: RegisteredWorkload, ttlMs: number): Promise<{ readonly leaseId: string }> {
    checkWorkload(workload, ttlMs);
    const key = this.#layout.workloadKey(workload.namespace, workload.name);
    const value = encodeWorkload({ workload: frozenJsonCopy(workload), ttlMs });
    const ttlSeconds = Math.max(1, Math.ceil(ttlMs / 1_000));
    const grant = await this.#session.call('lease grant', () =>
      this.#session.client.leaseClient.leaseGrant({ TTL: ttlSeconds }),
    );
    const leaseId = grant.ID;
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const { mark, responses } = await this.#session.read([{ request_range: { key, keys_only: true } }]);
        const previousLease = rangeKvs(responses[0])[0]?.lease;
        const revision = await this.#session.commit(
          'register',
          mark.epoch,
          [],
          [{ request_put: { key, value, lease: leaseId } }],
        );
        if (revision === undefined) continue;
        if (previousLease !== undefined && previousLease !== '0' && previousLease !== leaseId) {
          await this.#session.revokeQuietly(previousLease);
        }
        return { leaseId };
      }
      throw this.#session.contention('register');
    } catch (error) {
      await this.#session.revokeQuietly(leaseId);
      throw error;
    }
  }

  async renewLease(leaseId: string): Promise<boolean> {
    if (!isEtcdLeaseId(leaseId)) return false;
    const stream = await this.#session.call('lease keep-alive', () =>
      this.#session.client.leaseClient.leaseKeepAlive(),
    );
    try {
      const ttl = await new Promise<string>((resolve, reject) => {
        const timer = this.#clock.setTimeout(
          () => reject(new Error(`no answer within ${this.#requestTimeoutMs} ms`)),
          this.#requestTimeoutMs,
        );
        stream.on('data', (response) => {
          this.#clock.clearTimeout(timer);
          resolve(response.TTL);
        });
        stream.on('error', (error) => {
          this.#clock.clearTimeout(timer);
          reject(error);
        });
        stream.on('end', () => {
          this.#clock.clearTimeout(timer);
          reject(new Error('etcd ended the keep-alive stream'));
        });
        stream.write({ ID: leaseId });
      });
      return Number(ttl) > 0; // TTL 0: the lease has lapsed or never existed
    } catch (error) {
      throw this.#session.unavailable('lease keep-alive', error);
    } finally {
      closeStream(stream);
    }
  }

  async deregisterWorkload(namespace: string, name: string): Promise<void> {
    checkWorkload({ namespace, name }, 1);
    const key = this.#layout.workloadKey(namespace, name);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const { mark, responses } = await this.#session.read([{ request_range: { key, keys_only: true } }]);
      const kv = rangeKvs(responses[0])[0];
      if (kv === undefined) return;
      const revision = await this.#session.commit(
        'deregister',
        mark.epoch,
        [modRevisionIs(key, kv.mod_revision)],
        [{ request_delete_range: { key } }],
      );
      if (revision === undefined) continue;
      if (kv.lease !== '0') await this.#session.revokeQuietly(kv.lease);
      return;
    }
    throw this.#session.contention('deregister');
  }

  async listWorkloads(): Promise<readonly RegisteredWorkload[]> {
    const { responses } = await this.#session.read([{ request_range: this.#layout.workloads }]);
    return rangeKvs(responses[0]).map(decodeWorkload);
  }

  async getRecord(name: string): Promise<StoredRecord | undefined> {
    const key = this.#layout.recordKey(checkRecordName(name));
    const { responses } = await this.#session.read([{ request_range: { key } }]);
    const kv = rangeKvs(responses[0])[0];
    return kv === undefined ? undefined : decodeRecord(name, kv.mod_revision, kv.value);
  }

  /** One transaction fenced by the epoch and the record's mod_revision (0 when absent: create). */
  async putRecord(name: string, value: unknown, expectedVersion: string | null): Promise<RecordPutResult> {
    const key = this.#layout.recordKey(checkRecordName(name));
    const encoded = Buffer.from(JSON.stringify(value));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const { mark, responses } = await this.#session.read([{ request_range: { key } }]);
      const kv = rangeKvs(responses[0])[0];
      const current = kv === undefined ? undefined : decodeRecord(name, kv.mod_revision, kv.value);
      if ((current?.version ?? null) !== expectedVersion) return { ok: false, current };
      const revision = await this.#session.commit(
        'record put',
        mark.epoch,
        [modRevisionIs(key, kv?.mod_revision ?? 0)],
        [{ request_put: { key, value: encoded } }],
      );
      // A failed compare is either this record changing (the next read reports it) or the epoch.
      if (revision !== undefined) return { ok: true, record: decodeRecord(name, String(revision), encoded) };
    }
    throw this.#session.contention('record put');
  }

  async *watch(from: RevisionMark, signal: AbortSignal): AsyncIterable<StoreEvent> {
    if (this.#session.isClosed) throw this.#session.closed();
    const watch = new EtcdWatch(
      {
        client: this.#session.client,
        layout: this.#layout,
        clock: this.#clock,
        random: this.#random,
        readMark: () => this.mark(),
        bufferLimit: this.#watchBufferLimit,
        reconnectDelayMs: this.#reconnectDelayMs,
        progressIntervalMs: this.#progressIntervalMs,
        onBackgroundError: this.#onBackgroundError,
        endpoints: this.#session.endpoints,
      },
      from,
    );
    this.#watches.add(watch);
    try {
      yield* watch.events(signal);
    } finally {
      this.#watches.delete(watch);
    }
  }

  async close(): Promise<void> {
    if (this.#session.isClosed) return;
    for (const watch of this.#watches) watch.stop();
    this.#watches.clear();
    this.#session.close();
  }
}

function decodeRecord(name: string, version: string, value: Buffer): StoredRecord {
  try {
    return frozenJsonCopy({ name, version, value: JSON.parse(value.toString('utf8')) as unknown });
  } catch (error) {
    throw new StoreCorruptError(`etcd record ${name} does not hold JSON`, { cause: error });
  }
}

/** etcd lease ids are positive int64s, as decimal strings. */
function isEtcdLeaseId(leaseId: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(leaseId) && BigInt(leaseId) <= 0x7fff_ffff_ffff_ffffn;
}

function reportAsWarning(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : String(error), { code: 'WEFT_STORE' });
}
