import CircuitBreaker from 'opossum';
import { type Disposer, EventChannel } from '../../events/event-channel.ts';
import type { Clock, TimerHandle } from '../../time/clock.ts';
import type { CallBreakerSettings } from './breaker-config.ts';
import {
  type BreakerPermit,
  CALL_IGNORED,
  ClosedStatePermit,
  type OpossumCircuit,
  PASS_THROUGH_PERMIT,
  type TrialOutcome,
  TrialPermit,
} from './breaker-permit.ts';
import type { BreakerEvent, BreakerState, CircuitOpen } from './breaker-state.ts';
import { ClockBucketRotation } from './clock-bucket-rotation.ts';

export interface CallBreakerOptions {
  /** Names the breaker (the route) in events and in the fail-fast answer. */
  readonly name: string;
  readonly settings: CallBreakerSettings;
  readonly clock: Clock;
  readonly onListenerError?: (error: unknown) => void;
}

export type BreakerCallResult<T> = { readonly kind: 'completed'; readonly value: T } | CircuitOpen;

/**
 * The longest delay setTimeout accepts. opossum's own open → half-open timer cannot take a Clock,
 * so it gets this (it is unref'd and cleared on close or dispose) and the Clock timer below does
 * the job instead.
 */
const OPOSSUM_RESET_NEVER_MS = 2_147_483_647;

const CLOSED: BreakerState = Object.freeze({ kind: 'closed' });
const HALF_OPEN_IDLE: BreakerState = Object.freeze({ kind: 'half-open', isTrialRunning: false });
const HALF_OPEN_TRIAL: BreakerState = Object.freeze({ kind: 'half-open', isTrialRunning: true });

/**
 * A call-level circuit breaker for one route (a Weft extension; Istio has none), built on opossum:
 * opossum keeps the rolling window, applies errorThresholdPercentage and volumeThreshold, opens, and
 * fails calls fast while open. Weft adds what opossum cannot do with an injected Clock:
 * - the window slides on the Clock (opossum's rotateBucketController);
 * - open → half-open happens on the Clock after resetTimeout (opossum's own timer is parked);
 * - half-open lets exactly one trial call through: success closes, failure re-opens.
 *
 * Use `tryAcquire()` and report on the permit (interceptors), or `execute(fn, signal)`.
 */
export class CallBreaker {
  readonly name: string;
  readonly #clock: Clock;
  readonly #settings: CallBreakerSettings;
  readonly #events: EventChannel<BreakerEvent>;
  readonly #circuit: OpossumCircuit;
  readonly #rotation: ClockBucketRotation;
  readonly #rejection: CircuitOpen;
  #state: BreakerState = CLOSED;
  #halfOpenTimer: TimerHandle | undefined;
  #isDisposed = false;

  constructor(options: CallBreakerOptions) {
    const { settings, clock } = options;
    this.name = options.name;
    this.#clock = clock;
    this.#settings = settings;
    this.#events = new EventChannel(options.onListenerError);
    this.#rejection = Object.freeze({ kind: 'circuit-open', breaker: options.name, responseFlag: 'UO' });
    this.#rotation = new ClockBucketRotation(
      clock,
      Math.max(1, Math.floor(settings.rollingCountTimeoutMs / settings.rollingCountBuckets)),
    );
    this.#circuit = new CircuitBreaker((outcome: Promise<void>) => outcome, {
      name: options.name,
      timeout: false,
      resetTimeout: OPOSSUM_RESET_NEVER_MS,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      rollingCountTimeout: settings.rollingCountTimeoutMs,
      rollingCountBuckets: settings.rollingCountBuckets,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: this.#rotation.controller,
      errorFilter: (error: unknown) => error === CALL_IGNORED,
    });
    this.#circuit.on('open', () => this.#open('threshold'));
  }

  get state(): BreakerState {
    return this.#state;
  }

  get settings(): CallBreakerSettings {
    return this.#settings;
  }

  on(listener: (event: BreakerEvent) => void): Disposer {
    return this.#events.on(listener);
  }

  /** A permit to make the call, or the fail-fast answer. Synchronous; one small object per call. */
  tryAcquire(): BreakerPermit | CircuitOpen {
    if (this.#isDisposed) return PASS_THROUGH_PERMIT;
    switch (this.#state.kind) {
      case 'closed':
        return new ClosedStatePermit(this.#circuit);
      case 'half-open':
        if (this.#state.isTrialRunning) return this.#reject();
        this.#state = HALF_OPEN_TRIAL;
        return new TrialPermit(this.#onTrialOutcome);
      case 'open':
        return this.#reject();
    }
  }

  /**
   * Runs `fn` under the breaker. A rejection counts as a failure (not when `signal` has aborted: a
   * cancelled call is ignored) and is rethrown; a value counts as a failure when `isFailure` says so
   * (say, a 5xx response) and is returned either way.
   */
  async execute<T>(
    fn: (signal: AbortSignal | undefined) => Promise<T>,
    signal?: AbortSignal,
    isFailure?: (value: T) => boolean,
  ): Promise<BreakerCallResult<T>> {
    signal?.throwIfAborted();
    const permit = this.tryAcquire();
    if (permit.kind === 'circuit-open') return permit;
    let value: T;
    try {
      value = await fn(signal);
    } catch (error) {
      if (signal?.aborted === true) permit.ignore();
      else permit.failure();
      await permit.settled;
      throw error;
    }
    try {
      if (isFailure?.(value) === true) permit.failure();
      else permit.success();
    } catch (error) {
      permit.failure();
      await permit.settled;
      throw error;
    }
    await permit.settled;
    return { kind: 'completed', value };
  }

  /** Stops the timers and opossum; later calls pass through unprotected. */
  dispose(): void {
    if (this.#isDisposed) return;
    this.#isDisposed = true;
    if (this.#halfOpenTimer !== undefined) this.#clock.clearTimeout(this.#halfOpenTimer);
    this.#halfOpenTimer = undefined;
    this.#rotation.stop();
    this.#circuit.shutdown();
  }

  readonly #onTrialOutcome = (outcome: TrialOutcome): void => {
    if (this.#isDisposed || this.#state !== HALF_OPEN_TRIAL) return;
    if (outcome === 'failure') {
      this.#open('trial-failed');
    } else if (outcome === 'ignored') {
      this.#state = HALF_OPEN_IDLE;
    } else {
      this.#state = CLOSED;
      this.#circuit.close();
      this.#emit('closed');
    }
  };

  #open(cause: 'threshold' | 'trial-failed'): void {
    if (this.#isDisposed) return;
    const now = this.#clock.now();
    const resetMs = this.#settings.resetTimeoutMs;
    this.#state = Object.freeze({ kind: 'open', openedAtMs: now, halfOpenAtMs: now + resetMs });
    if (this.#halfOpenTimer !== undefined) this.#clock.clearTimeout(this.#halfOpenTimer);
    this.#halfOpenTimer = this.#clock.setTimeout(() => {
      this.#halfOpenTimer = undefined;
      this.#state = HALF_OPEN_IDLE;
      this.#emit('half-opened');
    }, resetMs);
    if (this.#events.hasListeners) {
      this.#events.emit({ type: 'opened', breaker: this.name, atMs: now, cause });
    }
  }

  #reject(): CircuitOpen {
    this.#emit('rejected');
    return this.#rejection;
  }

  #emit(type: 'half-opened' | 'closed' | 'rejected'): void {
    if (this.#events.hasListeners) {
      this.#events.emit({ type, breaker: this.name, atMs: this.#clock.now() });
    }
  }
}
