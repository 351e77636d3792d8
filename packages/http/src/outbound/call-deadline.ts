/**
 * Which limit ends a call that runs too long: the route's `timeout`, or the deadline of the
 * inbound request the call is made for (propagated). It decides the answer: Envoy's
 * `response_timeout` (WEFT_ERR_TIMEOUT) for the first, WEFT_ERR_DEADLINE_EXCEEDED for the second.
 */
export type DeadlineSource = 'route' | 'propagated';

/** How long a call may run in all, attempts and back-offs included, and which limit says so. */
export interface CallTimeout {
  /** Milliseconds from the start of the call; 0 or less when the propagated deadline has passed. */
  readonly timeoutMs: number;
  readonly source: DeadlineSource;
}

/**
 * The shorter of the route timeout and what is left of the propagated deadline; undefined when
 * neither applies. The route wins a tie: its timeout is what the operator configured.
 */
export function callTimeout(
  routeTimeoutMs: number | undefined,
  propagatedRemainingMs: number | undefined,
): CallTimeout | undefined {
  if (
    propagatedRemainingMs === undefined ||
    (routeTimeoutMs !== undefined && routeTimeoutMs <= propagatedRemainingMs)
  ) {
    return routeTimeoutMs === undefined ? undefined : { timeoutMs: routeTimeoutMs, source: 'route' };
  }
  return { timeoutMs: propagatedRemainingMs, source: 'propagated' };
}
