/**
 * Envoy's retry conditions (`x-envoy-retry-on` and `x-envoy-retry-grpc-on`), the names Istio
 * accepts in `retries.retryOn`. A set of conditions is a bitmask so that matching an attempt's
 * outcome against a route's policy is one AND, with nothing allocated per request.
 */
export type RetryCondition =
  | '5xx'
  | 'gateway-error'
  | 'reset'
  | 'reset-before-request'
  | 'connect-failure'
  | 'refused-stream'
  | 'retriable-4xx'
  | 'retriable-status-codes'
  | 'retriable-headers'
  | 'envoy-ratelimited'
  | 'http3-post-connect-failure'
  | 'cancelled'
  | 'deadline-exceeded'
  | 'internal'
  | 'resource-exhausted'
  | 'unavailable';

/** A set of RetryConditions, one bit each (see RETRY_CONDITION_BITS). */
export type RetryConditionSet = number;

/** Bit order is also the order names are reported in, most specific first. */
const CONDITION_ORDER: readonly RetryCondition[] = [
  'connect-failure',
  'refused-stream',
  'reset-before-request',
  'reset',
  'retriable-status-codes',
  'retriable-4xx',
  'retriable-headers',
  'envoy-ratelimited',
  'gateway-error',
  '5xx',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
  'http3-post-connect-failure',
];

export const RETRY_CONDITION_BITS: Readonly<Record<RetryCondition, number>> = Object.freeze(
  Object.fromEntries(CONDITION_ORDER.map((condition, index) => [condition, 1 << index])) as Record<
    RetryCondition,
    number
  >,
);

export function isRetryCondition(name: string): name is RetryCondition {
  return Object.hasOwn(RETRY_CONDITION_BITS, name);
}

/**
 * The bitmask of the conditions named in `names`. Names that are not conditions (Istio's bare
 * status codes were already moved into `retriableStatusCodes` by compileRetryPolicy) are
 * returned in `unknown` so the caller can report them; they never match anything.
 */
export function retryConditionMask(names: Iterable<string>): {
  readonly mask: RetryConditionSet;
  readonly unknown: readonly string[];
} {
  let mask = 0;
  const unknown: string[] = [];
  for (const name of names) {
    if (isRetryCondition(name)) mask |= RETRY_CONDITION_BITS[name];
    else unknown.push(name);
  }
  return { mask, unknown };
}

/** The names in a set, in a stable order (most specific first). For events, logs and tests. */
export function retryConditionNames(set: RetryConditionSet): RetryCondition[] {
  const names: RetryCondition[] = [];
  for (const condition of CONDITION_ORDER) {
    if ((set & RETRY_CONDITION_BITS[condition]) !== 0) names.push(condition);
  }
  return names;
}

/** The most specific condition in a non-empty set (what a retry event reports as its reason). */
export function firstRetryCondition(set: RetryConditionSet): RetryCondition | undefined {
  for (const condition of CONDITION_ORDER) {
    if ((set & RETRY_CONDITION_BITS[condition]) !== 0) return condition;
  }
  return undefined;
}
