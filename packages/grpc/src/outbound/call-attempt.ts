import type { Metadata, NextCall, status as Status, StatusObject } from '@grpc/grpc-js';
import type { Clock, ClusterRuntime, PoolLease, TimerHandle } from '@weft/core';

/** The call grpc-js gives an interceptor for one attempt (`nextCall(options)`). */
export type AttemptCall = ReturnType<NextCall>;

/** What the logical call does with an attempt's events; see MeshedCall. */
export interface AttemptOwner {
  onAttemptMetadata(attempt: CallAttempt, metadata: Metadata): void;
  onAttemptMessage(attempt: CallAttempt, message: unknown): void;
  onAttemptStatus(attempt: CallAttempt, status: StatusObject): void;
  onPerTryTimeout(attempt: CallAttempt): void;
}

/** The picked endpoint, as the balancer gives it (LbEndpoint): its key and its load record. */
interface PickedEndpoint {
  /** `address:port`; what outlier detection is told. */
  readonly key: string;
  readonly load: { onEnd(latencyMs: number, ok: boolean): void };
}

/**
 * One attempt of a logical call: the listener grpc-js calls for it, and the resources it holds
 * (a pool lease, a load record, a per-try timer), given back exactly once however it ends. Once
 * abandoned (a retry replaced it, the deadline passed, the caller cancelled) its events are
 * ignored: the caller only ever sees one attempt's answer.
 */
export class CallAttempt {
  readonly call: AttemptCall;
  readonly runtime: ClusterRuntime;
  readonly endpointKey: string;
  /** The connection (endpoint and transport) it was sent over, and whether that is mTLS. */
  readonly connectionId: string;
  readonly isMutualTls: boolean;
  /** 1 for the first try. */
  readonly number: number;
  readonly routeName: string;
  readonly startedAtMs: number;
  timer: TimerHandle | undefined;
  readonly #owner: AttemptOwner;
  readonly #clock: Clock;
  readonly #endpoint: PickedEndpoint;
  /** The connection-pool lease, given back exactly once when the attempt ends. */
  readonly #lease: PoolLease;
  #isSettled = false;
  #isAbandoned = false;

  constructor(
    owner: AttemptOwner,
    clock: Clock,
    call: AttemptCall,
    runtime: ClusterRuntime,
    endpoint: PickedEndpoint,
    connection: { readonly id: string; readonly isMutualTls: boolean },
    lease: PoolLease,
    number: number,
    routeName: string,
  ) {
    this.#owner = owner;
    this.#clock = clock;
    this.call = call;
    this.runtime = runtime;
    this.#endpoint = endpoint;
    this.#lease = lease;
    this.endpointKey = endpoint.key;
    this.connectionId = connection.id;
    this.isMutualTls = connection.isMutualTls;
    this.number = number;
    this.routeName = routeName;
    this.startedAtMs = clock.now();
  }

  get isAbandoned(): boolean {
    return this.#isAbandoned;
  }

  // InterceptingListener: what grpc-js reports for this attempt.
  onReceiveMetadata(metadata: Metadata): void {
    if (!this.#isAbandoned) this.#owner.onAttemptMetadata(this, metadata);
  }

  onReceiveMessage(message: unknown): void {
    if (!this.#isAbandoned) this.#owner.onAttemptMessage(this, message);
  }

  onReceiveStatus(status: StatusObject): void {
    if (this.#isAbandoned) return;
    this.#isAbandoned = true;
    this.settle(status.code === 0);
    this.#owner.onAttemptStatus(this, status);
  }

  startPerTryTimer(timeoutMs: number): void {
    this.timer = this.#clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.#isAbandoned) this.#owner.onPerTryTimeout(this);
    }, timeoutMs);
  }

  clearPerTryTimer(): void {
    if (this.timer !== undefined) this.#clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops the attempt without telling the caller; the upstream sees the stream cancelled. */
  abandon(code: Status, details: string): void {
    if (this.#isAbandoned) return;
    this.#isAbandoned = true;
    this.settle(false);
    this.call.cancelWithStatus(code, details);
  }

  /** Ends the attempt's accounting: load record, pool lease, timer. Idempotent. */
  settle(ok: boolean): void {
    if (this.#isSettled) return;
    this.#isSettled = true;
    this.clearPerTryTimer();
    this.#endpoint.load.onEnd(this.#clock.now() - this.startedAtMs, ok);
    this.#lease.release();
  }
}
