import type { AttemptOutcome } from './attempt-outcome.ts';
import { RETRY_CONDITION_BITS as BIT, type RetryConditionSet } from './retry-condition.ts';
import type { RetryPlan } from './retry-plan.ts';

/**
 * The retry conditions an attempt's outcome satisfies, following Envoy's router:
 * - every failure to get a response (connect failure, refused stream, reset before response
 *   headers, per-try timeout) satisfies `reset`, `5xx` and `gateway-error`: Envoy counts an
 *   upstream that did not answer as a 5xx (it would turn into a 503/504);
 * - `connect-failure` and `refused-stream` are only those two kinds of failure;
 *   `reset-before-request` is a failure before any byte of the request was written;
 * - a response satisfies `5xx` (500–599), `gateway-error` (502, 503, 504), `retriable-4xx` (409
 *   only), `retriable-status-codes` (the route's codes), `retriable-headers` (one of the plan's
 *   header names is present) and the gRPC conditions by its trailers-only `grpc-status`;
 * - a response carrying `x-envoy-ratelimited` (an upstream Envoy rate-limited it) satisfies only
 *   `envoy-ratelimited`: retrying a rate-limited request on `5xx`/`retriable-status-codes` would
 *   defeat the limit;
 * - `http3-post-connect-failure` never matches: Weft has no HTTP/3 transport.
 *
 * Never retried, whatever the policy:
 * - `overflow` (a connection-pool limit said no) and `circuit-open` (a breaker is failing fast):
 *   retrying them is exactly the load the limits exist to shed (Envoy never retries overflow);
 * - `fault-injected`: an injected abort stands for the upstream failing, and it is there to test
 *   the *caller's* handling of that failure. Envoy answers it from the fault filter, before the
 *   router and its retry policy ever see the request, so Istio users observe that aborts are not
 *   retried; retrying here would hide the fault the operator asked for (a 100% abort would just
 *   be retried `attempts` times and then fail anyway);
 * - a reset after the response started: the caller already has the response;
 * - `tls-auth-failure`: a certificate refused in the handshake is an authentication failure, not
 *   a network one; the same peer refuses again (bad-inputs E1, E4).
 */
export function classifyOutcome(outcome: AttemptOutcome, plan: RetryPlan): RetryConditionSet {
  switch (outcome.kind) {
    case 'connect-failure':
      return NO_RESPONSE | BIT['connect-failure'] | BIT['reset-before-request'];
    case 'refused-stream':
      return NO_RESPONSE | BIT['refused-stream'];
    case 'reset':
      if (outcome.phase === 'after-response-start') return 0;
      return outcome.phase === 'before-request' ? NO_RESPONSE | BIT['reset-before-request'] : NO_RESPONSE;
    case 'per-try-timeout':
      return NO_RESPONSE;
    case 'overflow':
    case 'circuit-open':
    case 'fault-injected':
    case 'tls-auth-failure':
      return 0;
    case 'response':
      return classifyResponse(outcome.status, outcome.headers, outcome.grpcStatus, plan);
  }
}

/** An upstream that did not answer: Envoy treats it as a reset and so as a (gateway) 5xx. */
const NO_RESPONSE = BIT.reset | BIT['5xx'] | BIT['gateway-error'];

const GRPC_CONDITIONS: ReadonlyMap<number, number> = new Map([
  [1, BIT.cancelled],
  [4, BIT['deadline-exceeded']],
  [8, BIT['resource-exhausted']],
  [13, BIT.internal],
  [14, BIT.unavailable],
]);

function classifyResponse(
  status: number,
  headers: { get(name: string): string | null | undefined },
  grpcStatus: number | undefined,
  plan: RetryPlan,
): RetryConditionSet {
  if (isPresent(headers.get('x-envoy-ratelimited'))) return BIT['envoy-ratelimited'];
  let set = 0;
  if (status >= 500 && status <= 599) set |= BIT['5xx'];
  if (status === 502 || status === 503 || status === 504) set |= BIT['gateway-error'];
  if (status === 409) set |= BIT['retriable-4xx'];
  if (plan.retriableStatusCodes.has(status)) set |= BIT['retriable-status-codes'];
  for (const name of plan.retriableHeaderNames) {
    if (isPresent(headers.get(name))) {
      set |= BIT['retriable-headers'];
      break;
    }
  }
  if (grpcStatus !== undefined) set |= GRPC_CONDITIONS.get(grpcStatus) ?? 0;
  return set;
}

function isPresent(value: string | null | undefined): boolean {
  return value !== undefined && value !== null;
}
