import { type Disposer, EventChannel } from '../../events/event-channel.ts';
import type { Clock, TimerHandle } from '../../time/clock.ts';
import { EndpointOutlierState } from './endpoint-outlier-state.ts';
import type { EjectionReason, OutlierEvent } from './outlier-events.ts';
import { isGatewayStatus, type OutlierOutcome } from './outlier-outcome.ts';
import type { OutlierSettings } from './outlier-settings.ts';
import { type HealthySelection, selectWithPanic } from './panic-threshold.ts';

export interface OutlierDetectorOptions {
  /** Names the cluster in events. */
  readonly cluster: string;
  readonly settings: OutlierSettings;
  readonly clock: Clock;
  /** Endpoint keys (`address:port`, see endpointKey) known at the start. */
  readonly endpoints?: Iterable<string>;
  readonly onListenerError?: (error: unknown) => void;
}

/** One endpoint's outlier state, for `weft proxy-config` and tests. */
export interface EndpointOutlierStatus {
  readonly endpoint: string;
  readonly isEjected: boolean;
  /** When the current ejection may end (the first sweep at or after this time ends it). */
  readonly ejectedUntilMs?: number;
  readonly ejectionCount: number;
  readonly consecutive5xx: number;
  readonly consecutiveGatewayErrors: number;
  readonly consecutiveLocalOriginFailures: number;
}

/**
 * Envoy's consecutive-error outlier detection for one cluster (passive health checking):
 *
 * - Counting: a 5xx counts toward consecutive5xxErrors; 502/503/504 also toward
 *   consecutiveGatewayErrors (any other status resets that run); a success resets both. A local-origin
 *   failure (connect failure, reset, timeout) counts as a gateway error, unless
 *   splitExternalLocalOriginErrors is set: then it only counts toward consecutiveLocalOriginFailures,
 *   which any HTTP answer resets (the connection worked).
 * - Ejection happens at once when a threshold is reached, unless it would put more than
 *   maxEjectionPercent of the endpoints out (the strict rule of Envoy ≥ 1.27, which Istio gets;
 *   `isOneEjectionAlwaysAllowed` restores "at least one"). The run that reached the threshold is
 *   reset either way, so it takes a fresh run to try again.
 * - An ejection lasts baseEjectionTime × backoff, capped at maxEjectionTime; backoff grows by one per
 *   ejection and shrinks by one per interval the endpoint stays healthy. Endpoints come back at
 *   sweeps, which run every `interval` while anything is ejected or still has backoff.
 *
 * Per response the cost is one map lookup and a few integer operations; events are built only
 * when someone listens.
 */
export class OutlierDetector {
  readonly cluster: string;
  readonly #clock: Clock;
  readonly #events: EventChannel<OutlierEvent>;
  #settings: OutlierSettings;
  #states = new Map<string, EndpointOutlierState>();
  #ejectedCount = 0;
  #sweepTimer: TimerHandle | undefined;
  #isDisposed = false;

  constructor(options: OutlierDetectorOptions) {
    this.cluster = options.cluster;
    this.#clock = options.clock;
    this.#settings = options.settings;
    this.#events = new EventChannel(options.onListenerError);
    if (options.endpoints !== undefined) this.updateEndpoints(options.endpoints);
  }

  get settings(): OutlierSettings {
    return this.#settings;
  }

  /** The healthy panic threshold Istio configures with outlier detection: minHealthPercent. */
  get panicThresholdPercent(): number {
    return this.#settings.minHealthPercent;
  }

  get ejectedCount(): number {
    return this.#ejectedCount;
  }

  get endpointCount(): number {
    return this.#states.size;
  }

  isEjected(endpoint: string): boolean {
    return this.#states.get(endpoint)?.isEjected === true;
  }

  on(listener: (event: OutlierEvent) => void): Disposer {
    return this.#events.on(listener);
  }

  record(endpoint: string, outcome: OutlierOutcome): void {
    switch (outcome.kind) {
      case 'local-origin-failure':
        this.recordLocalOriginFailure(endpoint);
        return;
      case 'success':
        if (outcome.status === undefined) this.recordSuccess(endpoint);
        else this.recordHttpStatus(endpoint, outcome.status);
        return;
      case 'http-5xx':
      case 'gateway-error':
        this.recordHttpStatus(endpoint, outcome.status);
        return;
    }
  }

  /** An HTTP answer; the status decides (with the cluster's outlierDetectionHttpErrorCodes, if any). */
  recordHttpStatus(endpoint: string, status: number): void {
    const state = this.#states.get(endpoint);
    if (state === undefined) return;
    if (this.#settings.splitExternalLocalOriginErrors) state.consecutiveLocalOrigin = 0;
    const codes = this.#settings.httpErrorCodes;
    const isError = codes === undefined ? status >= 500 && status <= 599 : codes.has(status);
    if (isError) {
      this.#countExternalError(endpoint, state, isGatewayStatus(status));
    } else {
      state.consecutive5xx = 0;
      state.consecutiveGateway = 0;
    }
  }

  /** A success with no HTTP status (a TCP exchange, a gRPC OK): every run ends. */
  recordSuccess(endpoint: string): void {
    this.#states.get(endpoint)?.resetCounters();
  }

  /** Connect failure, reset or timeout: the upstream gave no usable answer. */
  recordLocalOriginFailure(endpoint: string): void {
    const state = this.#states.get(endpoint);
    if (state === undefined) return;
    if (!this.#settings.splitExternalLocalOriginErrors) {
      // Envoy reports these as 503 (connect failure, reset) or 504 (timeout): gateway errors.
      this.#countExternalError(endpoint, state, true);
      return;
    }
    state.consecutiveLocalOrigin++;
    const threshold = this.#settings.consecutiveLocalOriginFailures;
    if (threshold > 0 && state.consecutiveLocalOrigin >= threshold) {
      this.#thresholdReached(endpoint, state, 'consecutive-local-origin-failure');
    }
  }

  /**
   * A new endpoint set (after a snapshot or registry change). Endpoints that remain keep their
   * counters, ejection and backoff; new ones start clean; removed ones are forgotten.
   */
  updateEndpoints(endpoints: Iterable<string>): void {
    const next = new Map<string, EndpointOutlierState>();
    let ejected = 0;
    for (const endpoint of endpoints) {
      if (next.has(endpoint)) continue;
      const state = this.#states.get(endpoint) ?? new EndpointOutlierState();
      next.set(endpoint, state);
      if (state.isEjected) ejected++;
    }
    this.#states = next;
    this.#ejectedCount = ejected;
  }

  /** New settings from a new snapshot; endpoint state is kept, current ejections keep their length. */
  reconfigure(settings: OutlierSettings): void {
    const intervalChanged = settings.intervalMs !== this.#settings.intervalMs;
    this.#settings = settings;
    if (intervalChanged && this.#sweepTimer !== undefined) {
      this.#clock.clearTimeout(this.#sweepTimer);
      this.#sweepTimer = undefined;
      this.#armSweep();
    }
  }

  /**
   * The endpoints the load balancer may pick: the ones not ejected, or all of them when the healthy
   * share is below the panic threshold (minHealthPercent). Call it when building a picker (after an
   * `ejected` or `returned` event), not per request. Unknown endpoints count as healthy.
   */
  selectHealthy<E>(endpoints: readonly E[], keyOf: (endpoint: E) => string): HealthySelection<E> {
    if (this.#ejectedCount === 0) return { endpoints, isPanic: false };
    const healthy = endpoints.filter((endpoint) => !this.isEjected(keyOf(endpoint)));
    return selectWithPanic(endpoints, healthy, this.panicThresholdPercent);
  }

  describe(): readonly EndpointOutlierStatus[] {
    return [...this.#states].map(([endpoint, state]) => ({
      endpoint,
      isEjected: state.isEjected,
      ...(state.isEjected ? { ejectedUntilMs: state.ejectedAtMs + state.ejectionDurationMs } : {}),
      ejectionCount: state.ejectionCount,
      consecutive5xx: state.consecutive5xx,
      consecutiveGatewayErrors: state.consecutiveGateway,
      consecutiveLocalOriginFailures: state.consecutiveLocalOrigin,
    }));
  }

  /** Stops the sweep timer; the detector answers queries but no endpoint comes back any more. */
  dispose(): void {
    this.#isDisposed = true;
    if (this.#sweepTimer !== undefined) this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  #countExternalError(endpoint: string, state: EndpointOutlierState, isGateway: boolean): void {
    const settings = this.#settings;
    if (isGateway) {
      state.consecutiveGateway++;
      if (
        settings.consecutiveGatewayErrors > 0 &&
        state.consecutiveGateway >= settings.consecutiveGatewayErrors
      ) {
        this.#thresholdReached(endpoint, state, 'consecutive-gateway-error');
      }
    } else {
      state.consecutiveGateway = 0;
    }
    state.consecutive5xx++;
    if (settings.consecutive5xxErrors > 0 && state.consecutive5xx >= settings.consecutive5xxErrors) {
      this.#thresholdReached(endpoint, state, 'consecutive-5xx');
    }
  }

  #thresholdReached(endpoint: string, state: EndpointOutlierState, reason: EjectionReason): void {
    // An ejected endpoint can still answer (requests in flight, panic mode): nothing more to do.
    if (state.isEjected) return;
    this.#tryEject(endpoint, state, reason);
    if (reason === 'consecutive-5xx') state.consecutive5xx = 0;
    else if (reason === 'consecutive-gateway-error') state.consecutiveGateway = 0;
    else state.consecutiveLocalOrigin = 0;
  }

  #tryEject(endpoint: string, state: EndpointOutlierState, reason: EjectionReason): void {
    const settings = this.#settings;
    const total = this.#states.size;
    const isAllowed =
      (this.#ejectedCount + 1) * 100 <= settings.maxEjectionPercent * total ||
      (settings.isOneEjectionAlwaysAllowed && this.#ejectedCount === 0);
    const now = this.#clock.now();
    if (!isAllowed) {
      if (this.#events.hasListeners) {
        this.#events.emit({
          type: 'ejection-overflow',
          cluster: this.cluster,
          endpoint,
          reason,
          ejectedCount: this.#ejectedCount,
          endpointCount: total,
          maxEjectionPercent: settings.maxEjectionPercent,
          atMs: now,
        });
      }
      return;
    }
    const base = settings.baseEjectionTimeMs;
    const max = settings.maxEjectionTimeMs;
    state.isEjected = true;
    state.ejectedAtMs = now;
    state.ejectionCount++;
    // Stop growing once base × backoff has passed the cap, so decay starts from near the cap.
    if (state.backoff * base < max + base) state.backoff++;
    state.ejectionDurationMs = Math.min(base * state.backoff, max);
    this.#ejectedCount++;
    this.#armSweep();
    if (this.#events.hasListeners) {
      this.#events.emit({
        type: 'ejected',
        cluster: this.cluster,
        endpoint,
        reason,
        durationMs: state.ejectionDurationMs,
        times: state.ejectionCount,
        atMs: now,
      });
    }
  }

  #armSweep(): void {
    if (this.#sweepTimer !== undefined || this.#isDisposed) return;
    this.#sweepTimer = this.#clock.setTimeout(() => this.#sweep(), this.#settings.intervalMs);
  }

  #sweep(): void {
    this.#sweepTimer = undefined;
    const now = this.#clock.now();
    for (const [endpoint, state] of this.#states) {
      if (state.isEjected && now - state.ejectedAtMs >= state.ejectionDurationMs) {
        this.#return(endpoint, state, now);
      }
    }
    let isActive = false;
    for (const state of this.#states.values()) {
      if (state.isEjected) {
        isActive = true;
        continue;
      }
      if (
        state.backoff > 0 &&
        state.returnedAtMs !== undefined &&
        now - state.returnedAtMs >= this.#settings.intervalMs
      ) {
        state.backoff--;
      }
      if (state.backoff > 0) isActive = true;
    }
    if (isActive) this.#armSweep();
  }

  #return(endpoint: string, state: EndpointOutlierState, now: number): void {
    state.isEjected = false;
    state.resetCounters();
    state.returnedAtMs = now;
    this.#ejectedCount--;
    if (this.#events.hasListeners) {
      this.#events.emit({
        type: 'returned',
        cluster: this.cluster,
        endpoint,
        ejectedForMs: now - state.ejectedAtMs,
        atMs: now,
      });
    }
  }
}
