import type { Clock, Random, RevisionMark } from '@weft/core';
import type { Etcd3, IEvent, IWatchResponse } from 'etcd3';
import { decodeResource, decodeWorkload, type EtcdLayout } from './etcd-codec.ts';
import type { StoreEvent } from './store.ts';
import { StoreUnavailableError } from './store-errors.ts';
import { WatchQueue } from './watch-queue.ts';

export interface EtcdWatchDeps {
  readonly client: Etcd3;
  readonly layout: EtcdLayout;
  readonly clock: Clock;
  readonly random: Random;
  /** The store's current mark; rejects while etcd is unreachable. */
  readonly readMark: () => Promise<RevisionMark>;
  readonly bufferLimit: number;
  readonly reconnectDelayMs: { readonly initial: number; readonly max: number };
  readonly progressIntervalMs: number;
  readonly onBackgroundError: (error: unknown) => void;
  readonly endpoints: string;
}

type StreamOutcome =
  | { readonly type: 'stopped' }
  | { readonly type: 'resync' }
  | { readonly type: 'disconnected'; readonly hadEvents: boolean; readonly error: unknown }
  | { readonly type: 'failed'; readonly error: unknown };

/**
 * One `Store.watch()` on etcd, on etcd's raw Watch stream rather than etcd3's Watcher (which
 * resumes from the last response's header revision: with a catching-up watcher that is the
 * store's current revision, not the last event delivered, so a reconnect can skip events).
 *
 * Resumes from the last delivered event's revision + 1 after any disconnection, dropping events
 * at or below it (no gaps, no duplicates: H2). Before every (re)connection it reads the store's
 * mark: another epoch (wiped etcd, or a revision that went backwards, H5) or a compacted start
 * revision (H1) ends the iteration with `resync`. Liveness: a progress request every
 * `progressIntervalMs`; a stream silent for two intervals is a stall (H3, B4) and is replaced.
 */
export class EtcdWatch {
  readonly #deps: EtcdWatchDeps;
  readonly #queue: WatchQueue<StoreEvent>;
  readonly #epoch: string;
  #lastRevision: number;
  #isStopped = false;
  #interrupt: (() => void) | undefined;

  constructor(deps: EtcdWatchDeps, from: RevisionMark) {
    this.#deps = deps;
    this.#queue = new WatchQueue(deps.bufferLimit);
    this.#epoch = from.epoch;
    this.#lastRevision = from.revision;
  }

  async *events(signal: AbortSignal): AsyncGenerator<StoreEvent, void, undefined> {
    const onAbort = (): void => this.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#run().then(
      () => this.#queue.finish(),
      (error: unknown) => this.#queue.fail(error),
    );
    try {
      yield* this.#queue.drain(signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.stop();
    }
  }

  stop(): void {
    this.#isStopped = true;
    this.#interrupt?.();
    this.#queue.finish();
  }

  async #run(): Promise<void> {
    let failures = 0;
    let mustResync = false;
    while (!this.#isStopped) {
      let mark: RevisionMark;
      try {
        mark = await this.#deps.readMark();
      } catch (error) {
        failures += 1;
        if (failures === 1) this.#deps.onBackgroundError(error);
        await this.#sleep(this.#backoffMs(failures));
        continue;
      }
      if (this.#isStopped) return;
      if (
        mustResync ||
        mark.epoch !== this.#epoch ||
        !Number.isSafeInteger(this.#lastRevision) ||
        this.#lastRevision < 0 ||
        mark.revision < this.#lastRevision
      ) {
        this.#queue.finishWith({ type: 'resync', mark });
        return;
      }
      const outcome = await this.#stream();
      switch (outcome.type) {
        case 'stopped':
          return;
        case 'resync':
          mustResync = true;
          break;
        case 'failed':
          throw outcome.error;
        case 'disconnected':
          failures = outcome.hadEvents ? 1 : failures + 1;
          if (failures === 1) {
            this.#deps.onBackgroundError(
              new StoreUnavailableError(
                `etcd watch at ${this.#deps.endpoints} lost (${reasonOf(outcome.error)}); reconnecting`,
                { cause: outcome.error },
              ),
            );
          }
          await this.#sleep(this.#backoffMs(failures));
          break;
      }
    }
  }

  async #stream(): Promise<StreamOutcome> {
    const { client, clock, layout, progressIntervalMs } = this.#deps;
    let stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>>;
    try {
      stream = await client.watchClient.watch();
    } catch (error) {
      return { type: 'disconnected', hadEvents: false, error };
    }
    return new Promise<StreamOutcome>((resolve) => {
      let isSettled = false;
      let hadEvents = false;
      let watchId: string | undefined;
      let lastHeardMs = clock.now();
      const finish = (outcome: StreamOutcome): void => {
        if (isSettled) return;
        isSettled = true;
        clock.clearTimeout(ticker);
        this.#interrupt = undefined;
        closeStream(stream);
        resolve(outcome);
      };
      const tick = (): void => {
        if (clock.now() - lastHeardMs >= 2 * progressIntervalMs) {
          finish({
            type: 'disconnected',
            hadEvents,
            error: new Error(`no answer from etcd for ${2 * progressIntervalMs} ms (stalled)`),
          });
          return;
        }
        stream.write({ progress_request: {} });
        ticker = clock.setTimeout(tick, progressIntervalMs);
      };
      let ticker = clock.setTimeout(tick, progressIntervalMs);
      this.#interrupt = () => finish({ type: 'stopped' });

      stream.on('data', (response: IWatchResponse) => {
        if (isSettled) return;
        lastHeardMs = clock.now();
        if (response.compact_revision !== '0' && response.compact_revision !== '') {
          finish({ type: 'resync' }); // H1: the start revision was compacted away
          return;
        }
        if (response.canceled) {
          finish({
            type: 'failed',
            error: new StoreUnavailableError(
              `etcd at ${this.#deps.endpoints} cancelled the watch: ${response.cancel_reason || 'no reason given'}`,
            ),
          });
          return;
        }
        if (response.created) {
          watchId = response.watch_id;
          return;
        }
        if (response.events.length === 0) {
          // A progress notification for this watcher (sent only once it has caught up): nothing
          // at or below this revision is still to come. Answers to our progress requests
          // (watch_id -1) are only liveness: etcd 3.4 sends them even while catching up.
          if (response.watch_id === watchId) {
            this.#lastRevision = Math.max(this.#lastRevision, Number(response.header.revision));
          }
          return;
        }
        const floor = this.#lastRevision;
        let highest = floor;
        for (const event of response.events) {
          const revision = Number(event.kv.mod_revision);
          if (revision <= floor) continue; // already delivered before a reconnect
          let mapped: StoreEvent | 'epoch-changed' | undefined;
          try {
            mapped = this.#toStoreEvent(event, revision, layout);
          } catch (error) {
            finish({ type: 'failed', error });
            return;
          }
          if (mapped === 'epoch-changed') {
            finish({ type: 'resync' });
            return;
          }
          highest = Math.max(highest, revision);
          if (mapped === undefined) continue;
          hadEvents = true;
          if (!this.#queue.push(mapped)) {
            this.#queue.finishWith({
              type: 'resync',
              mark: { epoch: this.#epoch, revision: Number(response.header.revision) },
            });
            finish({ type: 'stopped' });
            return;
          }
        }
        this.#lastRevision = highest;
      });
      stream.on('error', (error: unknown) => finish({ type: 'disconnected', hadEvents, error }));
      stream.on('end', () =>
        finish({ type: 'disconnected', hadEvents, error: new Error('etcd ended the watch stream') }),
      );
      stream.write({
        create_request: {
          ...layout.all,
          start_revision: this.#lastRevision + 1,
          prev_kv: true,
          progress_notify: true,
        },
      });
      if (this.#isStopped) finish({ type: 'stopped' });
    });
  }

  #toStoreEvent(
    event: IEvent,
    revision: number,
    layout: EtcdLayout,
  ): StoreEvent | 'epoch-changed' | undefined {
    const mark = Object.freeze({ epoch: this.#epoch, revision });
    const what = layout.classify(event.kv.key);
    const isPut = event.type === 'Put';
    switch (what.type) {
      case 'epoch':
        return isPut && event.kv.value.toString('utf8') === this.#epoch ? undefined : 'epoch-changed';
      case 'resource':
        return isPut
          ? { type: 'put', mark, resource: decodeResource(event.kv) }
          : { type: 'delete', mark, ref: what.ref };
      case 'workload':
        return isPut
          ? { type: 'workload-put', mark, workload: decodeWorkload(event.kv) }
          : { type: 'workload-delete', mark, namespace: what.namespace, name: what.name };
      case 'other':
        return undefined;
    }
  }

  #backoffMs(failures: number): number {
    const { initial, max } = this.#deps.reconnectDelayMs;
    const ceiling = Math.min(max, initial * 2 ** Math.min(failures - 1, 20));
    return ceiling * (0.5 + this.#deps.random.next() / 2);
  }

  #sleep(delayMs: number): Promise<void> {
    if (this.#isStopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#deps.clock.setTimeout(() => {
        this.#interrupt = undefined;
        resolve();
      }, delayMs);
      this.#interrupt = () => {
        this.#deps.clock.clearTimeout(timer);
        this.#interrupt = undefined;
        resolve();
      };
    });
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Half-closes, then cancels. The order matters: etcd3 treats the CANCELLED error that cancel()
 * raises on a still-writable stream as a failed host and closes every gRPC client it has for it.
 */
export function closeStream(stream: { end(): void; cancel(): void }): void {
  stream.end();
  stream.cancel();
}
