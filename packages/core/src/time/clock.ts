/**
 * Time, injected. Pure modules take a Clock so tests drive them with a fake one and never sleep;
 * only the composition root (createMesh) uses the system clock.
 */
export interface TimerHandle {
  readonly id: unknown;
}

export interface Clock {
  /** Milliseconds, monotonic within a process (not wall-clock time). */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process's monotonic clock; timers are unref'd so they never keep a process alive. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback, delayMs) {
    const id = setTimeout(callback, delayMs);
    id.unref();
    return { id };
  },
  clearTimeout(handle) {
    clearTimeout(handle.id as NodeJS.Timeout);
  },
};
