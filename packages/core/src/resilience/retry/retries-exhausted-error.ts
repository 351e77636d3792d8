import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import type { RetryRefusalReason } from './retry-decision.ts';

/**
 * The mesh gave up on a request whose last attempt failed without a response to hand back (a
 * reset, a connect failure, a per-try timeout). When the last attempt did get a response, the
 * adapter returns that response instead, as Envoy does. Response flag `URX`.
 */
export class RetriesExhaustedError extends WeftError {
  readonly attempts: number;
  readonly reason: RetryRefusalReason;
  readonly responseFlag = 'URX';

  constructor(attempts: number, reason: RetryRefusalReason, options?: { cause?: unknown }) {
    super(ErrorCodes.retriesExhausted, `gave up after ${attempts} attempt(s): ${reason}`, options);
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
    this.reason = reason;
  }
}
