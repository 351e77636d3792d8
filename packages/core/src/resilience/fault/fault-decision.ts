import type { HttpRouteSpec } from '../../config/compile/workload-view.ts';
import type { Random } from '../../randomness/random.ts';
import { grpcStatusCode } from './grpc-status-code.ts';

/** A route's normalized `fault` block (percentages already defaulted to 0 by the schema). */
export type HttpFaultSpec = NonNullable<HttpRouteSpec['fault']>;

export interface FaultAbort {
  /** The HTTP status to answer with (`abort.httpStatus`). */
  readonly httpStatus?: number;
  /** The numeric gRPC status to answer with (`abort.grpcStatus`, e.g. UNAVAILABLE → 14). */
  readonly grpcStatus?: number;
}

/** What fault injection does to one logical request; both parts may apply (delay, then abort). */
export interface FaultDecision {
  readonly delayMs?: number;
  readonly abort?: FaultAbort;
}

/** The decision for the (usual) request that gets no fault: shared, never allocated. */
export const NO_FAULT: FaultDecision = Object.freeze({});

/** The three decisions a fault block can produce, built once per block (per configuration). */
interface CompiledFault {
  readonly delayPercent: number;
  readonly abortPercent: number;
  readonly delayed: FaultDecision;
  readonly aborted: FaultDecision;
  readonly delayedAndAborted: FaultDecision;
}

const compiled = new WeakMap<HttpFaultSpec, CompiledFault>();

/**
 * Rolls a route's fault for one logical request. The delay and the abort are drawn independently,
 * each with its own percentage (as Envoy's fault filter does); an absent percentage is 0, so
 * nothing is injected ("if left unspecified, no request will be delayed/aborted"). 0% and 100%
 * draw no random number. Returns NO_FAULT (by identity) when nothing applies; every decision is a
 * frozen object built once per fault block, so a request allocates nothing here.
 *
 * Delays are `fixedDelay`: the schema rejects `exponentialDelay` (as Istio does), so it never
 * reaches here. An abort without a usable status (the schema rejects `http2Error`) is ignored.
 */
export function decideFault(fault: HttpFaultSpec | undefined, random: Random): FaultDecision {
  if (fault === undefined) return NO_FAULT;
  let compiledFault = compiled.get(fault);
  if (compiledFault === undefined) {
    compiledFault = compileFault(fault);
    compiled.set(fault, compiledFault);
  }
  const isDelayed = isDrawn(compiledFault.delayPercent, random);
  const isAborted = isDrawn(compiledFault.abortPercent, random);
  if (isDelayed) return isAborted ? compiledFault.delayedAndAborted : compiledFault.delayed;
  return isAborted ? compiledFault.aborted : NO_FAULT;
}

function compileFault(fault: HttpFaultSpec): CompiledFault {
  const delayMs = fault.delay?.fixedDelay;
  const abort = fault.abort === undefined ? undefined : toAbort(fault.abort);
  const delayPercent = delayMs === undefined ? 0 : (fault.delay?.percentage?.value ?? 0);
  const abortPercent = abort === undefined ? 0 : (fault.abort?.percentage?.value ?? 0);
  const delayed = delayMs === undefined ? NO_FAULT : Object.freeze({ delayMs });
  const aborted = abort === undefined ? NO_FAULT : Object.freeze({ abort });
  return Object.freeze({
    delayPercent,
    abortPercent,
    delayed,
    aborted,
    delayedAndAborted: Object.freeze({ ...delayed, ...aborted }),
  });
}

/** True with probability percent/100; Random is uniform in [0, 1). */
function isDrawn(percent: number, random: Random): boolean {
  if (!(percent > 0)) return false;
  if (percent >= 100) return true;
  return random.next() * 100 < percent;
}

function toAbort(abort: NonNullable<HttpFaultSpec['abort']>): FaultAbort | undefined {
  if (abort.httpStatus !== undefined) return Object.freeze({ httpStatus: abort.httpStatus });
  const grpcStatus = abort.grpcStatus === undefined ? undefined : grpcStatusCode(abort.grpcStatus);
  return grpcStatus === undefined ? undefined : Object.freeze({ grpcStatus });
}
