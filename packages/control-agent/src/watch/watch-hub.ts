import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROTOCOL_VERSION, STREAM_TOKEN_HEADER } from '@weft/core';
import type { ClientRegistry, Watcher } from '../clients/client-registry.ts';
import type { Caller } from '../http/admin-auth.ts';
import { HttpError } from '../http/http-error.ts';
import type { MeshCache, MeshCacheListener } from '../mesh-view/mesh-cache.ts';
import { FrameMemo } from './frame-memo.ts';
import type { ScopeOptions } from './visibility.ts';
import { parseWatchRequest } from './watch-request.ts';
import { type StreamSettings, WatchStream } from './watch-stream.ts';

export interface WatchHubOptions extends StreamSettings {
  readonly maxWatchClients: number;
  readonly scope: ScopeOptions;
}

/**
 * Every open watch stream, and the fan-out of the view's changes to them. Changes are pushed in
 * a batch on the next turn of the event loop (`setImmediate`), so the events of one store
 * transaction, or of writes that landed together, reach a client as one delta, never as a torn
 * half (bad-inputs A12); each stream then decides whether it may push now (see WatchStream).
 */
export class WatchHub implements MeshCacheListener {
  readonly #cache: MeshCache;
  readonly #clients: ClientRegistry;
  readonly #options: WatchHubOptions;
  readonly #memo: FrameMemo;
  readonly #streams = new Map<string, WatchStream>();
  readonly #unsubscribe: () => void;
  readonly #unsubscribeBundle: () => void;
  #pending: NodeJS.Immediate | undefined;

  constructor(cache: MeshCache, clients: ClientRegistry, options: WatchHubOptions) {
    this.#cache = cache;
    this.#clients = clients;
    this.#options = options;
    this.#memo = new FrameMemo(cache, options.scope);
    this.#unsubscribe = cache.subscribe(this);
    this.#unsubscribeBundle =
      options.trustBundle?.onChange(() => {
        for (const stream of this.#streams.values()) stream.sendTrustBundle();
      }) ?? (() => {});
  }

  get size(): number {
    return this.#streams.size;
  }

  changed(): void {
    this.#memo.clear();
    this.#schedule();
  }

  reset(): void {
    this.#memo.clear();
    for (const stream of this.#streams.values()) stream.requireSnapshot();
    this.#schedule();
  }

  /**
   * `GET /v1/watch`: checks the request, then streams frames until either side closes. `caller`
   * is who the request's credential proved (undefined on an agent without an admin token).
   */
  open(
    request: IncomingMessage,
    response: ServerResponse,
    query: URLSearchParams,
    caller: Caller | undefined,
  ): void {
    const watch = parseWatchRequest(query);
    const existing = this.#streams.get(watch.clientId);
    const watcher = watcherOf(caller, watch.namespace, existing?.record.watcher);
    if (existing === undefined && this.#streams.size >= this.#options.maxWatchClients) {
      throw new HttpError(
        503,
        'too-many-clients',
        `the agent serves at most ${this.#options.maxWatchClients} watches`,
        {
          headers: { 'retry-after': '5' },
        },
      );
    }
    // One stream per client id: a reconnect replaces a stream the agent has not noticed dying.
    existing?.close();
    const record = this.#clients.connect(
      watch.clientId,
      watch.namespace,
      watch.workload,
      watch.protocolVersion,
      watcher,
    );
    request.socket.setNoDelay(true);
    request.socket.setKeepAlive(true, this.#options.heartbeatMs);
    response.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-weft-protocol-version': String(PROTOCOL_VERSION),
      [STREAM_TOKEN_HEADER]: record.streamToken,
    });
    const stream = new WatchStream({
      record,
      response,
      cache: this.#cache,
      memo: this.#memo,
      clients: this.#clients,
      settings: this.#options,
      wantsTrustBundle: watch.wantsTrustBundle === true,
    });
    this.#streams.set(watch.clientId, stream);
    // A socket error ends this client's stream (it will resume); it never reaches the process.
    response.on('error', () => stream.close(true));
    response.on('close', () => {
      stream.dispose();
      if (this.#streams.get(watch.clientId) === stream) {
        this.#streams.delete(watch.clientId);
        this.#clients.disconnect(record);
      }
    });
    stream.start(watch.resume);
  }

  /** Asks a connected client for its config dump; false when it has no writable stream here. */
  requestConfigDump(clientId: string): boolean {
    return this.#streams.get(clientId)?.requestConfigDump() ?? false;
  }

  /** Ends every stream (clients will reconnect elsewhere or later). */
  close(): void {
    this.#unsubscribe();
    this.#unsubscribeBundle();
    if (this.#pending !== undefined) clearImmediate(this.#pending);
    for (const stream of this.#streams.values()) stream.close();
    this.#streams.clear();
  }

  #schedule(): void {
    if (this.#pending !== undefined) return;
    this.#pending = setImmediate(() => {
      this.#pending = undefined;
      for (const stream of this.#streams.values()) stream.pump();
    });
  }
}

/**
 * The stream's watcher, checked: a workload watches only as itself — the namespace it asks the
 * config of is its identity's (the view of another namespace is not its to read), and it does not
 * take over a live stream that another identity opened under the same clientId (403 either way).
 */
function watcherOf(caller: Caller | undefined, namespace: string, live: Watcher | undefined): Watcher {
  if (caller === undefined) return { credential: 'open' };
  if (caller.kind === 'admin') return { credential: 'admin' };
  if (caller.namespace !== namespace) {
    throw new HttpError(
      403,
      'not-own-namespace',
      `namespace: ${caller.spiffeId.uri} may watch only its own namespace "${caller.namespace}", not "${namespace}"`,
    );
  }
  const holder = live === undefined ? undefined : 'spiffeId' in live ? live.spiffeId : live.credential;
  if (holder !== undefined && holder !== 'open' && holder !== caller.spiffeId.uri) {
    throw new HttpError(
      403,
      'client-id-taken',
      `clientId: a live stream of ${holder} holds this clientId; ${caller.spiffeId.uri} may not replace it`,
    );
  }
  return { credential: caller.credential, spiffeId: caller.spiffeId.uri };
}
