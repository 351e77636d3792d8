import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import { ErrorCodes, type Mesh } from '@weft/core';
import { grpcEvents } from '../events/grpc-events.ts';
import { wallDeadlineMs } from '../outbound/call-deadline.ts';
import { metadataValue } from '../outbound/metadata-reading.ts';
import { grpcStatusName } from '../status/grpc-status-mapping.ts';
import { ERROR_CODE_METADATA } from '../status/response-flags.ts';
import type { InboundPolicy, InboundVerdict } from './inbound-policy.ts';
import { type IncomingCall, runInIncomingCall } from './incoming-call.ts';

export interface MeshServerInterceptorOptions {
  /** Authentication and authorization of each call; every call is allowed when absent. */
  readonly policy?: InboundPolicy;
}

/**
 * The grpc-js server interceptor of a meshed service. For each inbound call it
 * - reads the call's deadline and W3C trace context and runs the handler inside them (see
 *   incoming-call.ts), so calls the handler makes through the mesh inherit both;
 * - asks the inbound policy, and answers a denied call itself (UNAUTHENTICATED or
 *   PERMISSION_DENIED) without running the handler;
 * - reports the call when it ends (`grpcEvents(mesh).serverCall`), the telemetry seam.
 */
export function meshServerInterceptor(
  mesh: Mesh,
  options: MeshServerInterceptorOptions = {},
): ServerInterceptor {
  const events = grpcEvents(mesh);
  const policy = options.policy;
  return (descriptor, call) => {
    const startedAtMs = mesh.clock.now();
    let incoming: IncomingCall | undefined;
    let deniedBy: string | undefined;
    let isReported = false;
    const report = (status: { code: Status }) => {
      if (isReported || !events.serverCall.hasListeners) return;
      isReported = true;
      events.serverCall.emit({
        type: 'grpc-server-call',
        requestProtocol: 'grpc',
        method: descriptor.path,
        grpcStatus: status.code,
        grpcStatusName: grpcStatusName(status.code),
        peer: call.getPeer(),
        ...(deniedBy === undefined ? {} : { deniedBy }),
        startedAtMs,
        durationMs: mesh.clock.now() - startedAtMs,
      });
    };
    const within = (work: () => void) =>
      incoming === undefined ? work() : runInIncomingCall(incoming, work);
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            incoming = incomingCallOf(descriptor.path, call, metadata);
            const admitted = incoming;
            const proceed = (verdict: InboundVerdict) => {
              if (verdict.kind === 'allow') {
                runInIncomingCall(admitted, () => nextMetadata(metadata));
                return;
              }
              deniedBy = verdict.policy ?? verdict.reason;
              const status = denialStatus(verdict);
              report(status);
              call.sendStatus(status);
            };
            if (policy === undefined) {
              proceed({ kind: 'allow' });
              return;
            }
            decide(policy, descriptor.path, call, metadata).then(proceed, (error: unknown) =>
              proceed({
                kind: 'deny',
                reason: 'permission-denied',
                details: `inbound policy failed: ${error instanceof Error ? error.message : String(error)}`,
                policy: 'inbound-policy-error',
              }),
            );
          },
          onReceiveMessage: (message, nextMessage) => within(() => nextMessage(message)),
          onReceiveHalfClose: (nextHalfClose) => within(nextHalfClose),
        });
      },
      sendStatus: (status, nextStatus) => {
        report(status);
        nextStatus(status);
      },
    });
  };
}

function incomingCallOf(
  method: string,
  call: ServerInterceptingCallInterface,
  metadata: Metadata,
): IncomingCall {
  const traceparent = metadataValue(metadata, 'traceparent');
  const tracestate = metadataValue(metadata, 'tracestate');
  return {
    method,
    deadlineMs: wallDeadlineMs(call.getDeadline()) ?? Number.POSITIVE_INFINITY,
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(tracestate === undefined ? {} : { tracestate }),
    metadata,
  };
}

/** Runs the policy, turning a synchronous answer or throw into one promise. */
async function decide(
  policy: InboundPolicy,
  method: string,
  call: ServerInterceptingCallInterface,
  metadata: Metadata,
): Promise<InboundVerdict> {
  return policy({
    method,
    metadata,
    host: call.getHost(),
    peer: call.getPeer(),
    authContext: call.getAuthContext(),
    remoteAddress: call.getConnectionInfo().remoteAddress,
  });
}

function denialStatus(verdict: Extract<InboundVerdict, { kind: 'deny' }>): StatusObject {
  const metadata = new Metadata();
  const isUnauthenticated = verdict.reason === 'unauthenticated';
  metadata.set(
    ERROR_CODE_METADATA,
    isUnauthenticated ? ErrorCodes.unauthenticated : ErrorCodes.permissionDenied,
  );
  return {
    code: isUnauthenticated ? Status.UNAUTHENTICATED : Status.PERMISSION_DENIED,
    details: verdict.details,
    metadata,
  };
}
