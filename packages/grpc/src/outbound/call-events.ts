import type { InterceptorOptions, StatusObject } from '@grpc/grpc-js';
import type { CompiledRoute, ErrorCode, HttpRouteSpec } from '@weft/core';
import type { TargetService } from '../channel/target-service.ts';
import type { GrpcAttemptEvent, GrpcCallType } from '../events/grpc-events.ts';
import { grpcStatusName } from '../status/grpc-status-mapping.ts';
import type { CallAttempt } from './call-attempt.ts';
import type { OutboundContext } from './outbound-context.ts';

/** What a call knows when it ends, for its event. */
export interface EndedCall {
  readonly method: string;
  readonly callType: GrpcCallType;
  readonly service: TargetService;
  readonly route: CompiledRoute<HttpRouteSpec> | undefined;
  readonly attempt: CallAttempt | undefined;
  readonly attempts: number;
  readonly status: StatusObject;
  readonly flags: readonly string[];
  readonly errorCode: ErrorCode | undefined;
  readonly startedAtMs: number;
}

/** Emits the call's event, built only when someone listens (the telemetry seam). */
export function emitCallEvent(context: OutboundContext, call: EndedCall): void {
  const channel = context.events.call;
  if (!channel.hasListeners) return;
  const cluster = call.attempt?.runtime.cluster;
  channel.emit({
    type: 'grpc-client-call',
    requestProtocol: 'grpc',
    method: call.method,
    callType: call.callType,
    destinationHost: call.service.host,
    destinationPort: call.service.port,
    ...(call.route === undefined ? {} : { route: call.route.name }),
    ...(cluster === undefined ? {} : { cluster: cluster.name }),
    ...(cluster?.subset === undefined ? {} : { subset: cluster.subset }),
    ...(call.attempt === undefined ? {} : { endpoint: call.attempt.endpointKey }),
    grpcStatus: call.status.code,
    grpcStatusName: grpcStatusName(call.status.code),
    attempts: call.attempts,
    retries: Math.max(0, call.attempts - 1),
    responseFlags: call.flags,
    ...(call.errorCode === undefined ? {} : { errorCode: call.errorCode }),
    startedAtMs: call.startedAtMs,
    durationMs: context.mesh.clock.now() - call.startedAtMs,
  });
}

export function emitAttemptEvent(
  context: OutboundContext,
  method: string,
  attempt: CallAttempt,
  grpcStatus: number,
  outcome: GrpcAttemptEvent['outcome'],
): void {
  const channel = context.events.attempt;
  if (!channel.hasListeners) return;
  const cluster = attempt.runtime.cluster;
  channel.emit({
    type: 'grpc-client-attempt',
    method,
    route: attempt.routeName,
    cluster: cluster.name,
    ...(cluster.subset === undefined ? {} : { subset: cluster.subset }),
    endpoint: attempt.endpointKey,
    attempt: attempt.number,
    grpcStatus,
    outcome,
    durationMs: context.mesh.clock.now() - attempt.startedAtMs,
  });
}

/** The shape of a method, as events label it. */
export function callTypeOf(definition: InterceptorOptions['method_definition']): GrpcCallType {
  const { requestStream, responseStream } = definition;
  if (requestStream) return responseStream ? 'bidi-streaming' : 'client-streaming';
  return responseStream ? 'server-streaming' : 'unary';
}
