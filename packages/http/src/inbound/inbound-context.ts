import type { IncomingMessage } from 'node:http';
import type { Clock, RequestContext } from '@weft/core';

/**
 * Core's RequestContext as the inbound pipeline makes it, remembering the request it belongs to:
 * a second entry on the same request (a MeshServer in front of weftExpress) finds it active and
 * lets the request through instead of running the pipeline twice.
 */
export class InboundContext implements RequestContext {
  readonly headers: readonly (readonly [string, string])[];
  readonly deadlineAtMs: number | undefined;
  readonly clock: Clock;
  readonly request: IncomingMessage;

  constructor(
    request: IncomingMessage,
    headers: readonly (readonly [string, string])[],
    deadlineAtMs: number | undefined,
    clock: Clock,
  ) {
    this.request = request;
    this.headers = headers;
    this.deadlineAtMs = deadlineAtMs;
    this.clock = clock;
  }
}
