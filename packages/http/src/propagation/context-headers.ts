import { currentRequestContext, remainingMs, TRACE_CONTEXT_HEADERS } from '@weft/core';
import type { HeaderRecord } from '../outbound/request-headers.ts';
import { DEADLINE_HEADER, formatDeadlineHeader } from './deadline-header.ts';

const TRACE_HEADERS: ReadonlySet<string> = new Set(TRACE_CONTEXT_HEADERS);

/**
 * Adds to an outbound request the headers of the inbound request being handled (core's
 * RequestContext: request id, trace context, `end-user`, baggage) and what is left of its
 * deadline, wherever the caller did not set them. Trace context is one unit: a caller that wrote
 * any trace header of its own gets none of the inbound one, so formats never disagree. Outside
 * an inbound request this does nothing.
 */
export function addRequestContextHeaders(headers: HeaderRecord): void {
  const context = currentRequestContext();
  if (context === undefined) return;
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
  if (left !== undefined && headers[DEADLINE_HEADER] === undefined) {
    headers[DEADLINE_HEADER] = formatDeadlineHeader(left);
  }
}
