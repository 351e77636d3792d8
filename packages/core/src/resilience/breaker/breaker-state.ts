/** A call breaker's state: a tagged union, one object per state change (never per call). */
export type BreakerState =
  | { readonly kind: 'closed' }
  | { readonly kind: 'open'; readonly openedAtMs: number; readonly halfOpenAtMs: number }
  /** One trial call may run; `isTrialRunning` while it does (every other call fails fast). */
  | { readonly kind: 'half-open'; readonly isTrialRunning: boolean };

/** Every trip and recovery is an event (and a metric); `rejected` is each fail-fast call. */
export type BreakerEvent =
  | {
      readonly type: 'opened';
      readonly breaker: string;
      readonly atMs: number;
      /** `threshold`: the window's error percentage; `trial-failed`: the half-open trial failed. */
      readonly cause: 'threshold' | 'trial-failed';
    }
  | { readonly type: 'half-opened'; readonly breaker: string; readonly atMs: number }
  | { readonly type: 'closed'; readonly breaker: string; readonly atMs: number }
  | { readonly type: 'rejected'; readonly breaker: string; readonly atMs: number };

/**
 * The fail-fast answer while the breaker is open: never thrown, never retried. The adapter turns
 * it into a 503 with response flag UO (and WEFT_ERR_CIRCUIT_OPEN for callers of the API).
 */
export interface CircuitOpen {
  readonly kind: 'circuit-open';
  readonly breaker: string;
  readonly responseFlag: 'UO';
}
