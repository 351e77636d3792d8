import { type ErrorCode, EventChannel, type Mesh } from '@weft/core';

/** The four shapes of a gRPC method, as telemetry labels them. */
export type GrpcCallType = 'unary' | 'server-streaming' | 'client-streaming' | 'bidi-streaming';

/**
 * One logical outbound call ended (after all its attempts). What telemetry needs to record a
 * client span and Istio's standard metrics with `request_protocol="grpc"` and
 * `grpc_response_status`: the route, the subset, the retries and the mesh's response flags.
 */
export interface GrpcCallEvent {
  readonly type: 'grpc-client-call';
  readonly requestProtocol: 'grpc';
  /** `/package.Service/Method`. */
  readonly method: string;
  readonly callType: GrpcCallType;
  /** The destination service's FQDN and the port the caller addressed. */
  readonly destinationHost: string;
  readonly destinationPort: number;
  /** The route that matched (`http[].name` or `<VirtualService>#<index>`); absent for NR. */
  readonly route?: string;
  /** The cluster and subset of the last attempt; absent when no attempt was made. */
  readonly cluster?: string;
  readonly subset?: string;
  /** `address:port` of the endpoint that answered last. */
  readonly endpoint?: string;
  readonly grpcStatus: number;
  /** `OK`, `UNAVAILABLE`, … */
  readonly grpcStatusName: string;
  /** Attempts sent to an upstream (0 when the mesh answered before any). */
  readonly attempts: number;
  /** attempts − 1, never below 0. */
  readonly retries: number;
  /** Envoy-style flags of a status the mesh made; empty when the upstream answered. */
  readonly responseFlags: readonly string[];
  readonly errorCode?: ErrorCode;
  /** Mesh clock time when the call started, and how long it took. */
  readonly startedAtMs: number;
  readonly durationMs: number;
}

/** One attempt of an outbound call ended: DESIGN.md's event per attempt. */
export interface GrpcAttemptEvent {
  readonly type: 'grpc-client-attempt';
  readonly method: string;
  readonly route: string;
  readonly cluster: string;
  readonly subset?: string;
  readonly endpoint: string;
  /** 1 for the first try. */
  readonly attempt: number;
  /** The status the attempt ended with (an upstream's, or UNAVAILABLE for a failed connect). */
  readonly grpcStatus: number;
  /** How the attempt ended, as the retry layer classified it. */
  readonly outcome: 'response' | 'connect-failure' | 'per-try-timeout' | 'abandoned';
  readonly durationMs: number;
}

/** One inbound call ended on a MeshServer. */
export interface GrpcServerCallEvent {
  readonly type: 'grpc-server-call';
  readonly requestProtocol: 'grpc';
  readonly method: string;
  readonly grpcStatus: number;
  readonly grpcStatusName: string;
  /** The caller's address as grpc-js reports it (`ipv4:127.0.0.1:51234`). */
  readonly peer: string;
  /** Set when the inbound policy refused the call: the policy's reason. */
  readonly deniedBy?: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
}

/**
 * The gRPC adapter's events for one mesh, next to the core's `mesh.events`. This is the seam
 * telemetry plugs into: `grpcEvents(mesh).call.on((event) => …)`. Events are built only when
 * someone listens.
 */
export class GrpcEvents {
  readonly call = new EventChannel<GrpcCallEvent>();
  readonly attempt = new EventChannel<GrpcAttemptEvent>();
  readonly serverCall = new EventChannel<GrpcServerCallEvent>();
}

const byMesh = new WeakMap<Mesh, GrpcEvents>();

/** The gRPC events of a mesh: one set per mesh, shared by all its clients and servers. */
export function grpcEvents(mesh: Mesh): GrpcEvents {
  let events = byMesh.get(mesh);
  if (events === undefined) {
    events = new GrpcEvents();
    byMesh.set(mesh, events);
  }
  return events;
}
