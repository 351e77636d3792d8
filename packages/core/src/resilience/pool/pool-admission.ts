/**
 * What the connection-pool limiter answers when a request (or a retry) asks to start. Plain
 * values, never thrown: the adapter turns an overflow into a 503 with response flag UO (Envoy's
 * "upstream overflow"), and the retry controller never retries it.
 */

export type OverflowReason = 'max-requests' | 'max-pending-requests' | 'max-retries';

export interface PoolOverflow {
  readonly kind: 'overflow';
  readonly reason: OverflowReason;
  readonly responseFlag: 'UO';
}

/** Permission to run one request (or one retry); `release()` when it ends, however it ends. */
export interface PoolLease {
  readonly kind: 'admitted';
  /** Idempotent: a second call does nothing. */
  release(): void;
}

/** The request waits for a free connection; `admission` settles when it gets one or is aborted. */
export interface PoolPending {
  readonly kind: 'pending';
  readonly admission: Promise<PoolLease | PoolAborted>;
}

/** The caller's signal aborted the request while it waited (or before it asked). */
export interface PoolAborted {
  readonly kind: 'aborted';
  readonly reason: unknown;
}

export type PoolAdmission = PoolLease | PoolPending | PoolOverflow | PoolAborted;

export const OVERFLOWS: Readonly<Record<OverflowReason, PoolOverflow>> = Object.freeze({
  'max-requests': Object.freeze({ kind: 'overflow', reason: 'max-requests', responseFlag: 'UO' }),
  'max-pending-requests': Object.freeze({
    kind: 'overflow',
    reason: 'max-pending-requests',
    responseFlag: 'UO',
  }),
  'max-retries': Object.freeze({ kind: 'overflow', reason: 'max-retries', responseFlag: 'UO' }),
});

/** The limiter's events: every overflow is one (Envoy's upstream_rq_pending_overflow and kin). */
export interface PoolOverflowEvent {
  readonly type: 'overflow';
  readonly cluster: string;
  readonly reason: OverflowReason;
  /** The limit that was reached. */
  readonly limit: number;
}
