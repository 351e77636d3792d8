import type { Clock } from '../../time/clock.ts';

/**
 * Waits `delayMs` on the injected clock (so tests advance a FakeClock instead of sleeping).
 * Rejects with the signal's reason as soon as it aborts — a request's deadline signal cuts a
 * back-off or an injected delay short — and always clears its timer and listener.
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, delayMs),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
