import type { Random } from '../../randomness/random.ts';

/**
 * Fully jittered exponential back-off, as Envoy documents it: retry N waits a uniform random time
 * in [0, (2^N − 1) × base), and the upper end never exceeds `maxMs` (10 × base by default).
 * Full jitter spreads retries of many callers that failed together instead of synchronising them.
 *
 * @param retryNumber 1 for the first retry, 2 for the second, …
 */
export function backoffDelayMs(retryNumber: number, baseMs: number, maxMs: number, random: Random): number {
  const ceilingMs = Math.min(maxMs, baseMs * (2 ** Math.max(1, retryNumber) - 1));
  if (!(ceilingMs > 0)) return 0;
  return Math.floor(random.next() * ceilingMs);
}
