import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../time/clock.ts';

/**
 * Drives opossum's rolling window from an injected Clock: opossum's `rotateBucketController`
 * option takes an EventEmitter and slides its window one bucket on each `rotate` event, instead
 * of running its own setInterval. One timer per breaker, re-armed after each rotation.
 */
export class ClockBucketRotation {
  readonly controller = new EventEmitter();
  readonly #clock: Clock;
  readonly #bucketMs: number;
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, bucketMs: number) {
    this.#clock = clock;
    this.#bucketMs = bucketMs;
    this.#arm();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.controller.removeAllListeners();
  }

  #arm(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.controller.emit('rotate');
      this.#arm();
    }, this.#bucketMs);
  }
}
