import type { TLSSocket } from 'node:tls';
import type { Clock, EventChannel, UpstreamTlsError, UpstreamTlsEvent, UpstreamTlsMode } from '@weft/core';
import { type Dispatcher, Pool } from 'undici';
import { type TlsConnectorSettings, tlsConnector } from './tls-connector.ts';

/** What a pool is for, for events and messages. */
export interface SecurePoolFacts {
  readonly cluster: string;
  /** `address:port`. */
  readonly endpoint: string;
  readonly mode: UpstreamTlsMode;
  readonly isAuto: boolean;
}

export interface SecurePoolOptions {
  readonly origin: string;
  readonly facts: SecurePoolFacts;
  readonly connector: Omit<TlsConnectorSettings, 'onHandshake' | 'onFailure'>;
  /**
   * Reads the verified identity of a connected server (ISTIO_MUTUAL); undefined when the mode
   * verifies none.
   */
  readonly peerOf?: (socket: TLSSocket) => string | undefined;
  /** undici Pool options: the cluster's connection settings. */
  readonly poolOptions: Pool.Options;
  readonly events: EventChannel<UpstreamTlsEvent>;
  readonly clock: Clock;
}

/** How many late TLS refusals a pool keeps for attempts to ask about. */
const MAX_LATE_REFUSALS = 32;

/**
 * The connections to one endpoint made with one set of TLS settings — and, for ISTIO_MUTUAL, one
 * identity material: an undici Pool whose connector makes and verifies them. When the workload's
 * certificate is renewed, UpstreamTransport starts a new SecurePool for new requests and closes
 * this one, which lets the requests already on it finish first (undici's graceful close): rotation
 * drops no request, and a connection never outlives the trust it was verified under for longer
 * than its requests.
 */
export class SecurePool {
  readonly pool: Pool;
  readonly facts: SecurePoolFacts;
  /** The SPIFFE ID the server proved on the pool's latest handshake (destination_principal). */
  peer: string | undefined = undefined;
  /** TLS refusals that came after a handshake, by local port, until an attempt takes them. */
  readonly #lateRefusals = new Map<number, UpstreamTlsError>();
  #isRetired = false;
  readonly #clock: Clock;
  /** When the pool's last connection closed with nothing queued (undefined while in use). */
  #unusedSinceMs: number | undefined;

  constructor(options: SecurePoolOptions) {
    this.facts = options.facts;
    const { events, clock, facts, peerOf } = options;
    const connect = tlsConnector({
      ...options.connector,
      onHandshake: (socket) => {
        // A resumed session shows no peer certificate; it was verified, under this pool's very
        // settings, when the session was made: the pool's peer stands.
        const peer = peerOf?.(socket) ?? this.peer;
        this.peer = peer;
        if (events.hasListeners) {
          events.emit({
            type: 'handshake',
            ...facts,
            ...(peer === undefined ? {} : { peer }),
            atMs: clock.now(),
          });
        }
      },
      onFailure: (error, localPort) => {
        if (localPort !== undefined) this.#rememberRefusal(localPort, error);
        if (!events.hasListeners) return;
        events.emit({
          type: 'handshake-failed',
          ...facts,
          reason: error.reason,
          message: error.message,
          atMs: clock.now(),
        });
      },
    });
    this.pool = new Pool(options.origin, { ...options.poolOptions, connect });
    this.#clock = clock;
    this.pool.on('disconnect', () => {
      if (this.#isUnused()) this.#unusedSinceMs = clock.now();
    });
  }

  /** Whether the pool has had no connection and no request for at least `forMs`. */
  isUnusedFor(forMs: number): boolean {
    const since = this.#unusedSinceMs;
    if (since === undefined || !this.#isUnused()) return false;
    return this.#clock.now() - since >= forMs;
  }

  #isUnused(): boolean {
    const stats = this.pool.stats;
    return stats.connected === 0 && stats.size === 0;
  }

  /**
   * The TLS refusal that ended the connection from `localPort`, if one did: undici reports such a
   * failure as "other side closed", and the attempt asks here what it really was.
   */
  takeRefusal(localPort: number): UpstreamTlsError | undefined {
    const error = this.#lateRefusals.get(localPort);
    if (error !== undefined) this.#lateRefusals.delete(localPort);
    return error;
  }

  #rememberRefusal(localPort: number, error: UpstreamTlsError): void {
    // Bounded: refusals no attempt asks about (the connection was idle) must not pile up.
    if (this.#lateRefusals.size >= MAX_LATE_REFUSALS) {
      const oldest = this.#lateRefusals.keys().next().value;
      if (oldest !== undefined) this.#lateRefusals.delete(oldest);
    }
    this.#lateRefusals.set(localPort, error);
  }

  get isRetired(): boolean {
    return this.#isRetired;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.#unusedSinceMs = undefined;
    return this.pool.dispatch(options, handler);
  }

  /** No new requests; the pool closes once those on it ended (never rejects). */
  retire(): Promise<void> {
    this.#isRetired = true;
    return this.pool.close().catch(() => {});
  }

  destroy(): Promise<void> {
    this.#isRetired = true;
    return this.pool.destroy().catch(() => {});
  }
}
