/**
 * How a deadline travels between workloads over HTTP: Envoy's `x-envoy-expected-rq-timeout-ms`,
 * the milliseconds the caller will still wait (relative, so the two clocks need not agree). Istio
 * sidecars set it on the requests they send; Weft reads it on inbound requests and writes what is
 * left of it on the outbound calls made while handling them. A deadline only ever shortens: a
 * caller that sends a long one gains nothing.
 */
export const DEADLINE_HEADER = 'x-envoy-expected-rq-timeout-ms';

/** The largest value read (about 24 days, what a timer can hold); anything longer means none. */
const MAX_DEADLINE_MS = 2_147_483_647;

/** The header's milliseconds, or undefined when absent, repeated or not a positive integer. */
export function parseDeadlineHeader(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 10) return undefined;
  let ms = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    ms = ms * 10 + digit;
  }
  return ms === 0 || ms > MAX_DEADLINE_MS ? undefined : ms;
}

/**
 * The header's value for what is left of a deadline: whole milliseconds, never below 1 (0 would
 * read as "no timeout" to an Envoy).
 */
export function formatDeadlineHeader(remainingMs: number): string {
  return String(Math.max(1, Math.floor(remainingMs)));
}
