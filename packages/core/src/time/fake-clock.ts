import type { Clock, TimerHandle } from './clock.ts';

interface PendingTimer {
  readonly handle: TimerHandle;
  readonly dueMs: number;
  readonly sequence: number;
  readonly callback: () => void;
}

/**
 * A Clock that only moves when told to, for deterministic tests: `advance(ms)` runs every timer
 * that falls due, in due order (ties in creation order), including timers set by those timers.
 */
export class FakeClock implements Clock {
  #nowMs: number;
  #sequence = 0;
  #timers: PendingTimer[] = [];

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle: TimerHandle = { id: ++this.#sequence };
    this.#timers.push({
      handle,
      dueMs: this.#nowMs + Math.max(0, delayMs),
      sequence: this.#sequence,
      callback,
    });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((timer) => timer.handle !== handle);
  }

  /** Timers not yet run. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  advance(ms: number): void {
    const target = this.#nowMs + ms;
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#timers = this.#timers.filter((timer) => timer !== next);
      this.#nowMs = next.dueMs;
      next.callback();
    }
    this.#nowMs = target;
  }

  #nextDue(limitMs: number): PendingTimer | undefined {
    let next: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.dueMs > limitMs) continue;
      if (
        next === undefined ||
        timer.dueMs < next.dueMs ||
        (timer.dueMs === next.dueMs && timer.sequence < next.sequence)
      ) {
        next = timer;
      }
    }
    return next;
  }
}
