import { type Disposer, EventChannel } from '../../events/event-channel.ts';
import { PendingQueue } from './pending-queue.ts';
import {
  OVERFLOWS,
  type OverflowReason,
  type PoolAdmission,
  type PoolLease,
  type PoolOverflow,
  type PoolOverflowEvent,
} from './pool-admission.ts';
import type { ConnectionPoolLimits } from './pool-limits.ts';

export type PoolProtocol = 'http1' | 'http2';

export interface ConnectionPoolLimiterOptions {
  /** Names the cluster in events. */
  readonly cluster: string;
  readonly limits: ConnectionPoolLimits;
  /** How many requests one connection carries at once: 1 (HTTP/1.1) or maxConcurrentStreams (HTTP/2). */
  readonly protocol?: PoolProtocol;
  readonly onListenerError?: (error: unknown) => void;
}

class Lease implements PoolLease {
  readonly kind = 'admitted';
  #onRelease: (() => void) | undefined;

  constructor(onRelease: () => void) {
    this.#onRelease = onRelease;
  }

  release(): void {
    const onRelease = this.#onRelease;
    if (onRelease === undefined) return;
    this.#onRelease = undefined;
    onRelease();
  }
}

/**
 * Envoy's cluster circuit breakers, in process and without sockets. The HTTP adapter asks before
 * each attempt; undici then never holds more requests than this allows, so its own queue stays empty.
 *
 * - A request in flight holds one of `maxConnections × per-connection concurrency` slots (1 for
 *   HTTP/1.1, maxConcurrentStreams for HTTP/2), and counts toward maxRequests (http2MaxRequests).
 * - At maxRequests a new request overflows at once (UO).
 * - With every slot busy it waits, first in first out, in a queue of at most maxPendingRequests
 *   (http1MaxPendingRequests); a full queue overflows (UO). It leaves the queue when a slot frees
 *   or its AbortSignal (the per-try timeout or deadline) fires.
 * - maxRetries bounds retries in flight: the retry controller takes a retry lease before retrying and
 *   does not retry when that overflows (Envoy's upstream_rq_retry_overflow).
 *
 * Admission and release are O(1) and allocate one lease; overflows return shared frozen values.
 */
export class ConnectionPoolLimiter {
  readonly cluster: string;
  readonly #events: EventChannel<PoolOverflowEvent>;
  readonly #protocol: PoolProtocol;
  readonly #queue = new PendingQueue();
  #limits: ConnectionPoolLimits;
  #slotCapacity: number;
  #activeRequests = 0;
  #activeRetries = 0;

  constructor(options: ConnectionPoolLimiterOptions) {
    this.cluster = options.cluster;
    this.#protocol = options.protocol ?? 'http1';
    this.#limits = options.limits;
    this.#slotCapacity = slotCapacity(options.limits, this.#protocol);
    this.#events = new EventChannel(options.onListenerError);
  }

  get limits(): ConnectionPoolLimits {
    return this.#limits;
  }

  get activeRequests(): number {
    return this.#activeRequests;
  }

  get pendingRequests(): number {
    return this.#queue.size;
  }

  get activeRetries(): number {
    return this.#activeRetries;
  }

  on(listener: (event: PoolOverflowEvent) => void): Disposer {
    return this.#events.on(listener);
  }

  /** Asks to start one attempt (the first try or a retry). */
  tryStartRequest(signal?: AbortSignal): PoolAdmission {
    if (signal?.aborted === true) return { kind: 'aborted', reason: signal.reason };
    const limits = this.#limits;
    if (this.#activeRequests >= limits.maxRequests) return this.#overflow('max-requests', limits.maxRequests);
    // Nobody waits while a slot is free: every release and reconfigure admits waiters first.
    if (this.#activeRequests < this.#slotCapacity) {
      this.#activeRequests++;
      return new Lease(this.#releaseRequest);
    }
    if (this.#queue.size >= limits.maxPendingRequests) {
      return this.#overflow('max-pending-requests', limits.maxPendingRequests);
    }
    return { kind: 'pending', admission: this.#queue.enqueue(signal) };
  }

  /** Asks to run one more retry; hold the lease for the retry attempt's whole life. */
  tryStartRetry(): PoolLease | PoolOverflow {
    if (this.#activeRetries >= this.#limits.maxRetries) {
      return this.#overflow('max-retries', this.#limits.maxRetries);
    }
    this.#activeRetries++;
    return new Lease(this.#releaseRetry);
  }

  /** New limits from a new snapshot; requests in flight keep their leases. */
  reconfigure(limits: ConnectionPoolLimits): void {
    this.#limits = limits;
    this.#slotCapacity = slotCapacity(limits, this.#protocol);
    this.#admitWaiting();
  }

  readonly #releaseRequest = (): void => {
    this.#activeRequests--;
    this.#admitWaiting();
  };

  readonly #releaseRetry = (): void => {
    this.#activeRetries--;
  };

  #admitWaiting(): void {
    while (
      this.#queue.size > 0 &&
      this.#activeRequests < this.#slotCapacity &&
      this.#activeRequests < this.#limits.maxRequests
    ) {
      this.#activeRequests++;
      this.#queue.admitNext(new Lease(this.#releaseRequest));
    }
  }

  #overflow(reason: OverflowReason, limit: number): PoolOverflow {
    if (this.#events.hasListeners) {
      this.#events.emit({ type: 'overflow', cluster: this.cluster, reason, limit });
    }
    return OVERFLOWS[reason];
  }
}

function slotCapacity(limits: ConnectionPoolLimits, protocol: PoolProtocol): number {
  const perConnection = protocol === 'http2' ? limits.maxConcurrentStreams : 1;
  return Math.min(Number.MAX_SAFE_INTEGER, limits.maxConnections * perConnection);
}
