import type { Clock } from '../../time/clock.ts';

/**
 * A count of events over the last `windowMs`, kept in `bucketCount` buckets that rotate as the
 * clock moves: O(1) memory and time, no timers. The window is approximate by one bucket (an event
 * leaves the count between `windowMs − windowMs/bucketCount` and `windowMs` after it happened).
 */
export class SlidingWindowCounter {
  readonly #clock: Clock;
  readonly #bucketMs: number;
  readonly #counts: number[];
  #head = 0;
  #headStartMs: number;
  #total = 0;

  constructor(clock: Clock, windowMs: number, bucketCount = 10) {
    if (!(windowMs > 0) || !Number.isInteger(bucketCount) || bucketCount < 1) {
      throw new RangeError(
        `a sliding window needs windowMs > 0 and bucketCount ≥ 1 (got ${windowMs}, ${bucketCount})`,
      );
    }
    this.#clock = clock;
    this.#bucketMs = windowMs / bucketCount;
    this.#counts = new Array<number>(bucketCount).fill(0);
    this.#headStartMs = clock.now();
  }

  add(count = 1): void {
    this.#rotate();
    this.#counts[this.#head] = (this.#counts[this.#head] ?? 0) + count;
    this.#total += count;
  }

  sum(): number {
    this.#rotate();
    return this.#total;
  }

  #rotate(): void {
    const elapsed = Math.floor((this.#clock.now() - this.#headStartMs) / this.#bucketMs);
    if (elapsed <= 0) return;
    const size = this.#counts.length;
    if (elapsed >= size) {
      this.#counts.fill(0);
      this.#total = 0;
    } else {
      for (let step = 0; step < elapsed; step++) {
        this.#head = (this.#head + 1) % size;
        this.#total -= this.#counts[this.#head] ?? 0;
        this.#counts[this.#head] = 0;
      }
    }
    this.#headStartMs += elapsed * this.#bucketMs;
  }
}
