import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../time/clock.ts';

/**
 * What an inbound request hands on to the outbound calls its handler makes, with no code in the
 * handler: the headers Istio asks applications to copy by hand (request id, trace context, the
 * end user, baggage) and the caller's deadline. The inbound pipeline of an adapter (@weft/http's
 * server and middleware) runs the handler inside one; the outbound path of any adapter reads it.
 *
 * The context is kept in an AsyncLocalStorage, so it follows the handler through awaits,
 * callbacks and library code, and ends with the handler's asynchronous work.
 */
export interface RequestContext {
  /**
   * Headers to add to an outbound request that does not set them already: lower-case names, in
   * the order they were found. Chosen once when the inbound request arrives.
   */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /**
   * When the caller stops waiting for the inbound request, on `clock`; undefined when it sent no
   * deadline. Outbound calls carry what is left of it.
   */
  readonly deadlineAtMs: number | undefined;
  /** The clock `deadlineAtMs` is read on (the mesh's, monotonic). */
  readonly clock: Clock;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the inbound request whose handler is running (in this async context), if any. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `work(...args)` as part of the inbound request `context`: calls made under it inherit it. */
export function runInRequestContext<Args extends unknown[], Result>(
  context: RequestContext,
  work: (...args: Args) => Result,
  ...args: Args
): Result {
  return storage.run(context, work, ...args);
}

/** Milliseconds left before the context's deadline (negative once it passed); undefined without one. */
export function remainingMs(context: RequestContext): number | undefined {
  const { deadlineAtMs } = context;
  return deadlineAtMs === undefined ? undefined : deadlineAtMs - context.clock.now();
}
