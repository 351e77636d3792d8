import {
  Metadata,
  type Responder,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerListener,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import { context as traceContexts } from '@opentelemetry/api';
import {
  ErrorCodes,
  type InboundSecurity,
  type Mesh,
  type RouteRequest,
  type TelemetryCall,
  TRACE_CONTEXT_HEADERS,
} from '@weft/core';
import { type GrpcEvents, grpcEvents } from '../events/grpc-events.ts';
import { wallDeadlineMs } from '../outbound/call-deadline.ts';
import { metadataValue } from '../outbound/metadata-reading.ts';
import { grpcStatusName } from '../status/grpc-status-mapping.ts';
import { ERROR_CODE_METADATA } from '../status/response-flags.ts';
import type { MessageSizes } from '../telemetry/message-sizes.ts';
import { type ConnectionPeers, connectionKey, type VerifiedConnection } from './connection-peers.ts';
import type { InboundCallInfo, InboundPolicy, InboundVerdict } from './inbound-policy.ts';
import { type IncomingCall, runInIncomingCall } from './incoming-call.ts';
import { incomingRequestContext } from './incoming-request-context.ts';
import { meshInboundPolicy } from './mesh-inbound-policy.ts';
import { sourceLabels } from './source-labels.ts';

type Denied = Extract<InboundVerdict, { kind: 'deny' }>;

export interface MeshServerInterceptorOptions {
  /**
   * The application's own check of each call, run after the mesh's (PeerAuthentication,
   * RequestAuthentication, AuthorizationPolicy) allowed it; nothing more when absent.
   */
  readonly policy?: InboundPolicy;
  /** The request-level security engines to share (JWKS cache); one of its own when absent. */
  readonly security?: InboundSecurity;
}

/** What a MeshServer adds: its own mesh policy (closed with it) and its listener's verified peers. */
export interface ServerInterceptorParts {
  readonly meshPolicy: InboundPolicy;
  readonly policy: InboundPolicy | undefined;
  readonly connections: ConnectionPeers | undefined;
  /**
   * Where the server's handlers note message sizes (a MeshServer's `register`); without, calls
   * report 0 body bytes.
   */
  readonly sizes?: MessageSizes | undefined;
}

/**
 * The grpc-js server interceptor of a meshed service. For each inbound call it
 * - starts its telemetry: a server span (the caller's trace context extracted from the metadata),
 *   Istio's metrics with reporter=destination, request_protocol=grpc and grpc_response_status;
 * - runs the mesh's inbound policy (meshInboundPolicy), then the application's, and answers a
 *   denied call itself (UNAUTHENTICATED or PERMISSION_DENIED) without running the handler,
 *   counting it in weft_denials_total;
 * - runs the handler inside the call: its deadline, its trace context (the server span's) and the
 *   OpenTelemetry context, so calls the handler makes through the mesh inherit all three;
 * - reports the call when it ends (`grpcEvents(mesh).serverCall`).
 *
 * A MeshServer installs it with its listener's verified mTLS peers; on a Server the application
 * binds itself every caller is plaintext to it (and so refused under PeerAuthentication STRICT).
 */
export function meshServerInterceptor(
  mesh: Mesh,
  options: MeshServerInterceptorOptions = {},
): ServerInterceptor {
  return serverInterceptor(mesh, {
    meshPolicy: meshInboundPolicy(mesh, options.security === undefined ? {} : { security: options.security }),
    policy: options.policy,
    connections: undefined,
  });
}

export function serverInterceptor(mesh: Mesh, parts: ServerInterceptorParts): ServerInterceptor {
  const events = grpcEvents(mesh);
  return (descriptor, call) => new InboundExchange(mesh, events, parts, descriptor.path, call).intercepting();
}

/** One inbound call as the interceptor follows it. */
class InboundExchange {
  readonly #mesh: Mesh;
  readonly #events: GrpcEvents;
  readonly #parts: ServerInterceptorParts;
  readonly #method: string;
  readonly #call: ServerInterceptingCallInterface;
  readonly #startedAtMs: number;
  #incoming: IncomingCall | undefined;
  #telemetry: TelemetryCall | undefined;
  /** The caller's connection, when the MeshServer's listener verified its mTLS identity. */
  #verified: VerifiedConnection | undefined;
  #deniedBy: string | undefined;
  #isEnded = false;

  constructor(
    mesh: Mesh,
    events: GrpcEvents,
    parts: ServerInterceptorParts,
    method: string,
    call: ServerInterceptingCallInterface,
  ) {
    this.#mesh = mesh;
    this.#events = events;
    this.#parts = parts;
    this.#method = method;
    this.#call = call;
    this.#startedAtMs = mesh.clock.now();
  }

  intercepting(): ServerInterceptingCall {
    const listener: ServerListener = {
      onReceiveMetadata: (metadata, next) => {
        try {
          this.#onMetadata(metadata, next);
        } catch (error) {
          // Nothing may leave a call hanging, or let it through unchecked: refuse it.
          this.#deny(policyFailure(error));
        }
      },
      onReceiveMessage: (message, next) => {
        const sizes = this.#parts.sizes;
        if (sizes !== undefined) {
          // Taken even when nothing records, so the next request need not queue behind it.
          const bytes = sizes.requestSize(message);
          if (this.#telemetry !== undefined) this.#telemetry.requestBytes += bytes;
        }
        this.#within(() => next(message));
      },
      onReceiveHalfClose: (next) => this.#within(next),
      onCancel: () => this.#end(Status.CANCELLED, true),
    };
    const responder: Responder = {
      start: (next) => next(listener),
      sendStatus: (status, next) => {
        this.#end(status.code, false);
        next(status);
      },
    };
    const sizes = this.#parts.sizes;
    if (sizes !== undefined) responder.sendMessage = (message, next) => this.#send(sizes, message, next);
    return new ServerInterceptingCall(this.#call, responder);
  }

  /**
   * Passes a response message on, adding its size to the telemetry. This interceptor is a
   * MeshServer's first, so `next` reaches grpc-js's own call, which serializes the message before
   * it returns: `serialized` is then that message's size.
   */
  #send(sizes: MessageSizes, message: unknown, next: (message: unknown) => void): void {
    const telemetry = this.#telemetry;
    if (telemetry === undefined) {
      next(message);
      return;
    }
    sizes.serialized = 0;
    next(message);
    telemetry.responseBytes += sizes.serialized;
  }

  #onMetadata(metadata: Metadata, next: (metadata: Metadata) => void): void {
    const info = this.#callInfo(metadata);
    const telemetry = this.#startTelemetry(info);
    this.#incoming = incomingCallOf(this.#mesh, this.#method, this.#call, metadata, telemetry);
    const proceed = () => {
      // The caller may have gone while an async policy decided: nothing left to run.
      if (!this.#isEnded) this.#within(() => next(metadata));
    };
    const refuse = (verdict: Denied) => this.#deny(verdict);
    const failed = (error: unknown) => this.#deny(policyFailure(error));
    let first: InboundVerdict | Promise<InboundVerdict>;
    try {
      first = this.#parts.meshPolicy(info);
    } catch (error) {
      failed(error);
      return;
    }
    const second = this.#parts.policy;
    const afterMesh = (verdict: InboundVerdict) => {
      if (verdict.kind === 'deny') {
        refuse(verdict);
        return;
      }
      if (second === undefined) {
        proceed();
        return;
      }
      decide(second, info).then((own) => (own.kind === 'allow' ? proceed() : refuse(own)), failed);
    };
    if (first instanceof Promise) first.then(afterMesh, failed);
    else afterMesh(first);
  }

  #callInfo(metadata: Metadata): InboundCallInfo {
    const call = this.#call;
    const { localAddress, localPort, remoteAddress, remotePort } = call.getConnectionInfo();
    const verified =
      localPort === undefined || remoteAddress === undefined || remotePort === undefined
        ? undefined
        : this.#parts.connections?.get(connectionKey(localPort, remoteAddress, remotePort));
    this.#verified = verified;
    return {
      method: this.#method,
      metadata,
      host: call.getHost(),
      peer: call.getPeer(),
      // grpc-js parses the peer's certificate anew on every getAuthContext() (tens of µs): only
      // for a policy that reads it.
      get authContext() {
        return call.getAuthContext();
      },
      remoteAddress,
      remotePort,
      localAddress,
      localPort,
      spiffeId: verified?.spiffeId,
      peerIdentity: verified?.identity,
      sni: verified?.sni,
    };
  }

  #startTelemetry(info: InboundCallInfo): TelemetryCall | undefined {
    const metadata = info.metadata;
    const request: RouteRequest = {
      path: this.#method,
      method: 'POST',
      authority: info.host,
      scheme: info.spiffeId === undefined ? 'http' : 'https',
      port: info.localPort ?? 0,
      header: (name) => metadataValue(metadata, name),
    };
    const telemetry = this.#mesh.telemetry.startServerCall(request, 'grpc');
    if (telemetry === undefined) return undefined;
    this.#telemetry = telemetry;
    const verified = this.#verified;
    if (verified !== undefined) {
      telemetry.peer = sourceLabels(this.#mesh.snapshot, verified, info.remoteAddress ?? '');
      telemetry.destinationPrincipal = verified.ownSpiffeId;
      telemetry.connectionSecurityPolicy = 'mutual_tls';
    } else {
      telemetry.connectionSecurityPolicy = 'none';
    }
    telemetry.downstreamRemoteAddress = formatAddress(info.remoteAddress, info.remotePort);
    telemetry.downstreamLocalAddress = formatAddress(info.localAddress, info.localPort);
    telemetry.requestedServerName = info.sni;
    return telemetry;
  }

  /** Runs `work` inside the call: its deadline and trace for outbound calls, its span as the active one. */
  #within(work: () => void): void {
    const incoming = this.#incoming;
    if (incoming === undefined) {
      work();
      return;
    }
    const telemetry = this.#telemetry;
    if (telemetry === undefined || telemetry.isEdgeOnly) runInIncomingCall(incoming, work);
    else runInIncomingCall(incoming, () => traceContexts.with(telemetry.context, work));
  }

  #deny(verdict: Denied): void {
    if (this.#isEnded) return;
    this.#deniedBy = verdict.policy ?? verdict.reason;
    const isUnauthenticated = verdict.reason === 'unauthenticated';
    this.#mesh.telemetry.recordDenial({
      reason: verdict.denial ?? (isUnauthenticated ? 'request-authentication' : 'authorization'),
      ...(verdict.policy === undefined ? {} : { policy: verdict.policy }),
    });
    const errorCode = isUnauthenticated ? ErrorCodes.unauthenticated : ErrorCodes.permissionDenied;
    const metadata = new Metadata();
    metadata.set(ERROR_CODE_METADATA, errorCode);
    for (const [name, value] of verdict.metadata ?? []) metadata.add(name, value);
    const status: StatusObject = {
      code: isUnauthenticated ? Status.UNAUTHENTICATED : Status.PERMISSION_DENIED,
      details: verdict.details,
      metadata,
    };
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) {
      this.#telemetry = undefined;
      telemetry.grpcStatus = status.code;
      telemetry.answered(200, undefined, errorCode, 0);
      telemetry.end(null);
    }
    this.#end(status.code, false);
    this.#call.sendStatus(status);
  }

  /** The call ended (a status was sent, or the caller cancelled): its telemetry and its event. */
  #end(code: Status, isCancelled: boolean): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) {
      this.#telemetry = undefined;
      telemetry.grpcStatus = code;
      if (isCancelled) telemetry.end(new CallerCancelledError());
      else {
        telemetry.responded(200);
        telemetry.end(null);
      }
    }
    const channel = this.#events.serverCall;
    if (!channel.hasListeners) return;
    const deniedBy = this.#deniedBy;
    channel.emit({
      type: 'grpc-server-call',
      requestProtocol: 'grpc',
      method: this.#method,
      grpcStatus: code,
      grpcStatusName: grpcStatusName(code),
      peer: this.#call.getPeer(),
      ...(deniedBy === undefined ? {} : { deniedBy }),
      startedAtMs: this.#startedAtMs,
      durationMs: this.#mesh.clock.now() - this.#startedAtMs,
    });
  }
}

/** Setter for telemetry's trace injection into a header list. */
const LIST_SETTER = {
  set(carrier: unknown, key: string, value: string): void {
    (carrier as [string, string][]).push([key, value]);
  },
};

function incomingCallOf(
  mesh: Mesh,
  method: string,
  call: ServerInterceptingCallInterface,
  metadata: Metadata,
  telemetry: TelemetryCall | undefined,
): IncomingCall {
  const traceHeaders: [string, string][] = [];
  // A call kept only for edge reports has no span of its own: the caller's trace goes on as received.
  if (telemetry !== undefined && !telemetry.isEdgeOnly)
    mesh.telemetry.injectContext(telemetry.context, traceHeaders, LIST_SETTER);
  else {
    for (const name of TRACE_CONTEXT_HEADERS) {
      const value = metadataValue(metadata, name);
      if (value !== undefined) traceHeaders.push([name, value]);
    }
  }
  const traceparent = traceHeaders.find(([name]) => name === 'traceparent')?.[1];
  const tracestate = traceHeaders.find(([name]) => name === 'tracestate')?.[1];
  const deadlineMs = wallDeadlineMs(call.getDeadline()) ?? Number.POSITIVE_INFINITY;
  return {
    method,
    deadlineMs,
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(tracestate === undefined ? {} : { tracestate }),
    ...(traceHeaders.length === 0 ? {} : { traceHeaders }),
    metadata,
    // The same call for HTTP calls the handler makes (@weft/http reads core's RequestContext).
    requestContext: incomingRequestContext(metadata, traceHeaders, deadlineMs, mesh.clock, Date.now()),
  };
}

/** Runs the application's policy, turning a synchronous answer or throw into one promise. */
async function decide(policy: InboundPolicy, info: InboundCallInfo): Promise<InboundVerdict> {
  return policy(info);
}

/** A policy that throws refuses the call (fail closed), saying why. */
function policyFailure(error: unknown): Denied {
  return {
    kind: 'deny',
    reason: 'permission-denied',
    details: `inbound policy failed: ${error instanceof Error ? error.message : String(error)}`,
    policy: 'inbound-policy-error',
  };
}

function formatAddress(address: string | undefined, port: number | undefined): string | undefined {
  if (address === undefined) return undefined;
  const host = address.includes(':') ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}

class CallerCancelledError extends Error {
  readonly code = 'CANCELLED';

  constructor() {
    super('the caller cancelled the call');
    this.name = 'CallerCancelledError';
  }
}
