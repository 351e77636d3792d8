import type { Clock } from '../time/clock.ts';

/** Time constant of the latency estimate (Finagle's and Linkerd's peak-EWMA default). */
export const LATENCY_DECAY_MS = 10_000;

/**
 * Cost of an endpoint with no latency sample yet that already has a request in flight: large, so
 * an unproven endpoint gets one probe at a time until it answers (Finagle's peak-EWMA penalty).
 */
export const UNMEASURED_BUSY_COST = 1e12;

/**
 * The live load of one endpoint, shared by every picker generation (keyed by `address:port`), so
 * requests started under an old picker are still counted by the new one. The caller calls
 * `onStart` when a request is sent and `onEnd` exactly once when it completes or fails.
 *
 * Besides the in-flight count (least request), it keeps a peak-sensitive moving average of
 * latency (peak EWMA): a sample above the estimate replaces it at once, a lower one is blended in
 * with weight 1 − e^(−Δt/τ) (Δt since the last sample), and between samples the estimate decays
 * towards 0 so that an endpoint that was slow is probed again after a while.
 */
export class EndpointLoad {
  readonly #clock: Clock;
  #active = 0;
  #latencyMs = 0;
  #stampMs = 0;
  #isMeasured = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Requests sent to this endpoint and not yet ended. */
  get active(): number {
    return this.#active;
  }

  /** Whether any request to this endpoint has completed. */
  get isMeasured(): boolean {
    return this.#isMeasured;
  }

  onStart(): void {
    this.#active++;
  }

  /**
   * `ok: false` (a failure) may raise the estimate but never lowers it: an endpoint that fails
   * fast must not look fast and attract traffic; outlier detection ejects it instead.
   */
  onEnd(latencyMs: number, ok: boolean): void {
    if (this.#active > 0) this.#active--;
    const nowMs = this.#clock.now();
    const decay = Math.exp(-Math.max(0, nowMs - this.#stampMs) / LATENCY_DECAY_MS);
    const current = this.#latencyMs * decay;
    const sample = Math.max(0, ok ? latencyMs : Math.max(latencyMs, current));
    // As Finagle and tower do: the peak test is against the stored estimate, and the blend
    // weighs the stored estimate by the decay since it was stored.
    if (!this.#isMeasured || sample > this.#latencyMs) this.#latencyMs = sample;
    else this.#latencyMs = current + sample * (1 - decay);
    this.#stampMs = nowMs;
    this.#isMeasured = true;
  }

  /** The latency estimate decayed to `nowMs`; 0 when never measured. Reading changes nothing. */
  latencyEstimateMs(nowMs: number): number {
    if (!this.#isMeasured) return 0;
    return this.#latencyMs * Math.exp(-Math.max(0, nowMs - this.#stampMs) / LATENCY_DECAY_MS);
  }

  /** Peak-EWMA cost: estimated latency × (in flight + 1), with the penalty for unproven endpoints. */
  peakEwmaCost(nowMs: number): number {
    if (!this.#isMeasured) return this.#active === 0 ? 0 : UNMEASURED_BUSY_COST;
    return this.latencyEstimateMs(nowMs) * (this.#active + 1);
  }
}
