import { currentRequestContext, remainingMs, TRACE_CONTEXT_HEADERS } from '@weft/core';
import type { HeaderRecord } from '../outbound/request-headers.ts';
import { DEADLINE_HEADER, formatDeadlineHeader } from './deadline-header.ts';

const TRACE_HEADERS: ReadonlySet<string> = new Set(TRACE_CONTEXT_HEADERS);

/** The deadline of the inbound request an outbound call is made for, as the call starts. */
export interface PropagatedDeadline {
  /** Milliseconds the caller still waits (0 or less: it has given up already). */
  readonly remainingMs: number;
  /**
   * Whether propagation wrote the call's deadline header (the handler set none of its own), so
   * that each attempt may write what is left of it again.
   */
  readonly isHeaderPropagated: boolean;
}

/**
 * Adds to an outbound request the headers of the inbound request being handled (core's
 * RequestContext: request id, trace context, `end-user`, baggage) and what is left of its
 * deadline, wherever the caller did not set them. Trace context is one unit: a caller that wrote
 * any trace header of its own gets none of the inbound one, so formats never disagree. Outside
 * an inbound request this does nothing.
 *
 * Returns the inbound request's deadline, which the outbound call enforces (meshed-request.ts),
 * whatever deadline header the handler set itself: the caller stops waiting all the same.
 * Undefined outside an inbound request or when it brought no deadline.
 */
export function addRequestContextHeaders(headers: HeaderRecord): PropagatedDeadline | undefined {
  const context = currentRequestContext();
  if (context === undefined) return undefined;
  let hasOwnTrace: boolean | undefined;
  for (const [name, value] of context.headers) {
    if (headers[name] !== undefined) continue;
    if (TRACE_HEADERS.has(name)) {
      hasOwnTrace ??= TRACE_CONTEXT_HEADERS.some((trace) => headers[trace] !== undefined);
      if (hasOwnTrace) continue;
    }
    headers[name] = value;
  }
  const left = remainingMs(context);
  if (left === undefined) return undefined;
  const isHeaderPropagated = headers[DEADLINE_HEADER] === undefined;
  if (isHeaderPropagated) headers[DEADLINE_HEADER] = formatDeadlineHeader(left);
  return { remainingMs: left, isHeaderPropagated };
}
