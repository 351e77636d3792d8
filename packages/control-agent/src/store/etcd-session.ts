import { randomUUID as cryptoRandomUUID } from 'node:crypto';
import type { RevisionMark } from '@weft/core';
import { noop } from 'cockatiel';
import { Etcd3, type ICompare, type IKeyValue, type IRequestOp, type IResponseOp } from 'etcd3';
import type { EtcdLayout } from './etcd-codec.ts';
import { StoreCorruptError, StoreUnavailableError } from './store-errors.ts';

/** Optimistic retries of a read-then-compare-and-swap that lost a race (never of a failed call). */
export const MAX_ATTEMPTS = 8;
const MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

export interface EtcdSessionOptions {
  readonly endpoints: readonly string[];
  readonly layout: EtcdLayout;
  readonly requestTimeoutMs: number;
  readonly randomUUID?: () => string;
  readonly onBackgroundError: (error: unknown) => void;
}

/**
 * The etcd client as the store uses it: every call with a deadline and no hidden retry (etcd3's
 * default retry policy and circuit breaker are replaced by cockatiel's `noop`), every failure a
 * StoreUnavailableError naming the endpoint; reads that carry the epoch, and writes fenced by it.
 */
export class EtcdSession {
  readonly client: Etcd3;
  readonly endpoints: string;
  readonly #layout: EtcdLayout;
  readonly #randomUUID: () => string;
  readonly #onBackgroundError: (error: unknown) => void;
  #epoch: string | undefined;
  /** The highest revision seen in `#epoch`: a linearizable read below it means etcd went back. */
  #highestRevision = 0;
  #isClosed = false;

  constructor(options: EtcdSessionOptions) {
    if (options.endpoints.length === 0) throw new RangeError('EtcdStore needs at least one endpoint');
    this.endpoints = options.endpoints.join(',');
    this.#layout = options.layout;
    this.#randomUUID = options.randomUUID ?? cryptoRandomUUID;
    this.#onBackgroundError = options.onBackgroundError;
    const timeoutMs = options.requestTimeoutMs;
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      faultHandling: { host: () => noop, global: noop },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      grpcOptions: { 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES },
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  close(): void {
    this.#isClosed = true;
    this.client.close();
  }

  /**
   * One consistent (linearizable) read of the epoch and `ops` at one revision. Creates the epoch
   * when etcd has none (first use, or a wiped etcd: H5), and starts a new one when the revision
   * went below one this store already saw in the same epoch (etcd restored from a backup: H5).
   */
  async read(ops: IRequestOp[]): Promise<{ readonly mark: RevisionMark; readonly responses: IResponseOp[] }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const knownEpoch = this.#epoch;
      const floor = this.#highestRevision;
      const response = await this.call('read', () =>
        this.client.kv.txn({ success: [{ request_range: { key: this.#layout.epochKey } }, ...ops] }),
      );
      const revision = Number(response.header.revision);
      const epochKv = rangeKvs(response.responses[0])[0];
      if (epochKv === undefined) {
        await this.#createEpoch();
        continue;
      }
      const epoch = epochKv.value.toString('utf8');
      if (epoch === knownEpoch && revision < floor) {
        await this.#replaceEpoch(epoch, revision, floor);
        continue;
      }
      this.#observe(epoch, revision);
      return { mark: { epoch, revision }, responses: response.responses.slice(1) };
    }
    throw this.contention('read');
  }

  /** A transaction fenced by the epoch; the new revision, or undefined when a compare failed. */
  async commit(
    what: string,
    epoch: string,
    compares: ICompare[],
    success: IRequestOp[],
  ): Promise<number | undefined> {
    const response = await this.call(what, () =>
      this.client.kv.txn({
        compare: [
          { key: this.#layout.epochKey, target: 'Value', result: 'Equal', value: Buffer.from(epoch) },
          ...compares,
        ],
        success,
      }),
    );
    if (!response.succeeded) return undefined;
    const revision = Number(response.header.revision);
    this.#observe(epoch, revision);
    return revision;
  }

  #observe(epoch: string, revision: number): void {
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#highestRevision = revision;
    } else if (revision > this.#highestRevision) {
      this.#highestRevision = revision;
    }
  }

  async #createEpoch(): Promise<void> {
    await this.call('epoch creation', () =>
      this.client.kv.txn({
        compare: [{ key: this.#layout.epochKey, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: this.#layout.epochKey, value: Buffer.from(this.#randomUUID()) } }],
      }),
    );
  }

  async #replaceEpoch(epoch: string, revision: number, floor: number): Promise<void> {
    this.#onBackgroundError(
      new StoreCorruptError(
        `etcd at ${this.endpoints} went back from revision ${floor} to ${revision} (restored from a backup?): starting a new epoch so that every watcher resyncs`,
      ),
    );
    await this.call('epoch replacement', () =>
      this.client.kv.txn({
        compare: [
          { key: this.#layout.epochKey, target: 'Value', result: 'Equal', value: Buffer.from(epoch) },
        ],
        success: [{ request_put: { key: this.#layout.epochKey, value: Buffer.from(this.#randomUUID()) } }],
      }),
    );
    // Whoever won the race, the next read adopts the new epoch and its revision.
    this.#epoch = undefined;
    this.#highestRevision = 0;
  }

  async revokeQuietly(leaseId: string): Promise<void> {
    try {
      await this.call('lease revoke', () => this.client.leaseClient.leaseRevoke({ ID: leaseId }));
    } catch (error) {
      // The lease then lapses on its own after its TTL; its key was already replaced or deleted.
      this.#onBackgroundError(error);
    }
  }

  async call<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.#isClosed) throw this.closed();
    try {
      return await call();
    } catch (error) {
      throw this.unavailable(what, error);
    }
  }

  unavailable(what: string, error: unknown): StoreUnavailableError {
    const reason = error instanceof Error ? error.message : String(error);
    return new StoreUnavailableError(`etcd ${what} at ${this.endpoints} failed: ${reason}`, {
      cause: error,
    });
  }

  contention(what: string): StoreUnavailableError {
    return new StoreUnavailableError(
      `etcd ${what} at ${this.endpoints}: lost ${MAX_ATTEMPTS} races in a row with other writers; try again`,
    );
  }

  closed(): StoreUnavailableError {
    return new StoreUnavailableError(`the etcd store (${this.endpoints}) is closed`);
  }
}

export function modRevisionIs(key: Buffer | undefined, modRevision: string | number): ICompare {
  return { key, target: 'Mod', result: 'Equal', mod_revision: modRevision };
}

export function rangeKvs(response: IResponseOp | undefined): IKeyValue[] {
  return response?.response_range?.kvs ?? [];
}
