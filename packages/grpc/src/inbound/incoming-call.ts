import { AsyncLocalStorage } from 'node:async_hooks';
import type { Metadata } from '@grpc/grpc-js';
import { type RequestContext, runInRequestContext } from '@weft/core';

/**
 * What an inbound call hands on to the calls its handler makes: its deadline and its trace
 * context. A MeshServer (or meshServerInterceptor) runs each handler inside it, so an outbound
 * call through the mesh made anywhere under the handler — awaited, in a callback, in a library —
 * inherits the deadline and the trace without the application copying anything.
 */
export interface IncomingCall {
  /** `/package.Service/Method`. */
  readonly method: string;
  /** Epoch milliseconds (wall clock, as grpc-js deadlines are); Infinity when the caller set none. */
  readonly deadlineMs: number;
  /**
   * W3C trace context the calls made for this one carry: the server span's, when telemetry
   * recorded one, else the caller's as received.
   */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /**
   * Every trace header (W3C and B3, core's TRACE_CONTEXT_HEADERS) the calls made for this one
   * carry, unless they set their own: written from the server span when there is one (so the next
   * hop is its child), else copied from the caller's metadata.
   */
  readonly traceHeaders?: readonly (readonly [string, string])[];
  /** The call's request metadata, as received. */
  readonly metadata: Metadata;
  /**
   * The same call as core's protocol-neutral RequestContext (incoming-request-context.ts), which
   * runInIncomingCall makes current too: an HTTP call the handler makes through @weft/http reads
   * it, as gRPC calls read an HTTP request's. Absent, only gRPC calls inherit from this one.
   */
  readonly requestContext?: RequestContext;
}

const storage = new AsyncLocalStorage<IncomingCall>();

/** The inbound call whose handler is running (in this async context), if any. */
export function currentIncomingCall(): IncomingCall | undefined {
  return storage.getStore();
}

/**
 * Runs `work` as part of `call`: outbound calls made under it inherit its deadline and trace —
 * gRPC calls through the IncomingCall, HTTP calls through its `requestContext` when it has one.
 */
export function runInIncomingCall<T>(call: IncomingCall, work: () => T): T {
  const context = call.requestContext;
  if (context === undefined) return storage.run(call, work);
  return storage.run(call, () => runInRequestContext(context, work));
}
