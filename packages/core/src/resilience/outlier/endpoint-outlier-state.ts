/**
 * What outlier detection remembers about one endpoint. Mutable on purpose: it changes on every
 * response and lives in the detector's map only, never handed out.
 */
export class EndpointOutlierState {
  consecutive5xx = 0;
  consecutiveGateway = 0;
  consecutiveLocalOrigin = 0;
  isEjected = false;
  ejectedAtMs = 0;
  /** Length of the current ejection: base × backoff, capped. */
  ejectionDurationMs = 0;
  /** Ejections so far (never decreases; reported as `times`). */
  ejectionCount = 0;
  /**
   * Envoy's ejection-time multiplier: +1 per ejection (until the cap is reached), −1 per sweep
   * the endpoint spends healthy at least one interval after its last return.
   */
  backoff = 0;
  /** When it last came back; undefined until its first return. */
  returnedAtMs: number | undefined = undefined;

  resetCounters(): void {
    this.consecutive5xx = 0;
    this.consecutiveGateway = 0;
    this.consecutiveLocalOrigin = 0;
  }
}
