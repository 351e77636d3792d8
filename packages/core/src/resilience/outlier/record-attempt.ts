import type { AttemptOutcome } from '../retry/attempt-outcome.ts';
import type { OutlierDetector } from './outlier-detector.ts';

/**
 * Feeds one attempt's outcome (as the transport adapter reports it to the retry controller) to
 * outlier detection, the last step of the policy chain. Outcomes decided inside the process
 * (overflow, circuit open, injected fault) never reached the endpoint and are not its fault.
 */
export function recordAttempt(detector: OutlierDetector, endpoint: string, outcome: AttemptOutcome): void {
  switch (outcome.kind) {
    case 'response':
      detector.recordHttpStatus(endpoint, outcome.status);
      return;
    case 'connect-failure':
    case 'tls-auth-failure':
    case 'refused-stream':
    case 'reset':
    case 'per-try-timeout':
      detector.recordLocalOriginFailure(endpoint);
      return;
    case 'overflow':
    case 'circuit-open':
    case 'fault-injected':
      return;
  }
}
