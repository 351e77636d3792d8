import { status as Status } from '@grpc/grpc-js';
import { ErrorCodes, type FaultAbort, type HttpRouteSpec } from '@weft/core';
import { httpStatusToGrpc } from '../status/grpc-status-mapping.ts';
import type { MeshStatus } from '../status/mesh-status.ts';
import { ResponseFlags } from '../status/response-flags.ts';
import type { DeadlineSource } from './call-deadline.ts';

/**
 * The statuses a call through the mesh can end with when no upstream answered: each with the
 * code a gRPC caller expects, details that say what happened, Envoy's flags and a WEFT_ERR code.
 */
export const MeshAnswers = {
  noRoute: (method: string, host: string, port: number): MeshStatus => ({
    code: Status.UNIMPLEMENTED,
    details: `no route for ${method} to ${host}:${port}`,
    flags: [ResponseFlags.noRoute],
    errorCode: ErrorCodes.noRoute,
  }),

  noHealthyUpstream: (cluster: string): MeshStatus => ({
    code: Status.UNAVAILABLE,
    details: `no healthy upstream for ${cluster}`,
    flags: [ResponseFlags.noHealthyUpstream],
    errorCode: ErrorCodes.noHealthyUpstream,
  }),

  overflow: (reason: string, cluster: string): MeshStatus => ({
    code: Status.UNAVAILABLE,
    details: `upstream overflow: ${reason} limit of ${cluster}`,
    flags: [ResponseFlags.overflow],
    errorCode: ErrorCodes.upstreamOverflow,
  }),

  circuitOpen: (route: string): MeshStatus => ({
    code: Status.UNAVAILABLE,
    details: `circuit open: ${route}`,
    flags: [ResponseFlags.overflow],
    errorCode: ErrorCodes.circuitOpen,
  }),

  /** An injected abort: its gRPC status, or its HTTP status as gRPC maps it. */
  faultAbort: (abort: FaultAbort, wasDelayed: boolean): MeshStatus => ({
    code: abort.grpcStatus ?? httpStatusToGrpc(abort.httpStatus ?? 503),
    details: 'fault filter abort',
    flags: wasDelayed
      ? [ResponseFlags.delayInjected, ResponseFlags.faultInjected]
      : [ResponseFlags.faultInjected],
    errorCode: ErrorCodes.faultInjected,
  }),

  /** The endpoint's connection failed (the picker's details say how). */
  connectFailure: (details: string): MeshStatus => ({
    code: Status.UNAVAILABLE,
    details,
    flags: [ResponseFlags.upstreamConnectionFailure],
    errorCode: ErrorCodes.upstreamConnectFailure,
  }),

  /**
   * The endpoint's TLS handshake refused a certificate (the server's is not one the destination
   * may present, or it refused ours): an authentication failure, Envoy's UF with a TLS error.
   */
  tlsRefused: (details: string): MeshStatus => ({
    code: Status.UNAVAILABLE,
    details,
    flags: [ResponseFlags.upstreamConnectionFailure],
    errorCode: ErrorCodes.unauthenticated,
  }),

  perTryTimeout: (): MeshStatus => ({
    code: Status.DEADLINE_EXCEEDED,
    details: 'upstream request timeout (per-try timeout)',
    flags: [ResponseFlags.upstreamTimeout],
    errorCode: ErrorCodes.perTryTimeout,
  }),

  /**
   * The call's deadline passed. Flag UT only when the route's timeout set it: a caller's own (or
   * propagated) deadline is not the upstream timing out. DI when an injected delay was running.
   */
  deadline: (source: DeadlineSource, route: string, timeoutMs: number, isDelaying: boolean): MeshStatus => {
    const flags: string[] = [];
    if (isDelaying) flags.push(ResponseFlags.delayInjected);
    if (source === 'route') flags.push(ResponseFlags.upstreamTimeout);
    const details =
      source === 'route'
        ? `upstream request timeout: route ${route} timeout ${timeoutMs} ms`
        : source === 'caller'
          ? 'deadline exceeded (the caller’s deadline)'
          : 'deadline exceeded (propagated from the inbound call)';
    return { code: Status.DEADLINE_EXCEEDED, details, flags, errorCode: ErrorCodes.timeout };
  },

  /** grpc-js would not start an attempt (the client was closed while a retry waited). */
  cannotStart: (error: unknown): MeshStatus => ({
    code: Status.UNAVAILABLE,
    details: `cannot start an attempt: ${error instanceof Error ? error.message : String(error)}`,
    flags: [],
  }),

  /** A redirect or direct response: gRPC cannot follow the first, so both become their status. */
  configured: (spec: HttpRouteSpec, route: string): MeshStatus => {
    const httpStatus = spec.redirect?.redirectCode ?? spec.directResponse?.status ?? 500;
    return {
      code: httpStatusToGrpc(httpStatus),
      details:
        spec.redirect !== undefined
          ? `route ${route} redirects (HTTP ${httpStatus}), which a gRPC call cannot follow`
          : (spec.directResponse?.body?.string ?? `direct response HTTP ${httpStatus}`),
      flags: [],
    };
  },

  /** A failure after retries: flagged URX, with the retries-exhausted code. */
  afterRetries: (status: MeshStatus): MeshStatus => ({
    ...status,
    flags: [...status.flags, ResponseFlags.retryLimitExceeded],
    errorCode: ErrorCodes.retriesExhausted,
  }),
} as const;
