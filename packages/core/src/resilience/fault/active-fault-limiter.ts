/**
 * Envoy's `max_active_faults`: how many requests may be delayed or aborted at once. When the cap
 * is reached a new request gets no fault (and a `fault-overflow` event), so a 100% fault on a
 * busy route cannot pile up unbounded delayed requests. Unlimited by default, as in Envoy.
 */
export class ActiveFaultLimiter {
  readonly maxActiveFaults: number;
  #active = 0;

  constructor(maxActiveFaults: number = Number.POSITIVE_INFINITY) {
    if (!(maxActiveFaults >= 0)) throw new RangeError(`maxActiveFaults must be ≥ 0 (got ${maxActiveFaults})`);
    this.maxActiveFaults = maxActiveFaults;
  }

  get active(): number {
    return this.#active;
  }

  tryAcquire(): boolean {
    if (this.#active >= this.maxActiveFaults) return false;
    this.#active++;
    return true;
  }

  release(): void {
    if (this.#active > 0) this.#active--;
  }
}
