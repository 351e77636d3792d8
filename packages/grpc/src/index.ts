// The public API of @weft/grpc. Everything not exported here is internal and may change.

export { ENDPOINT_BALANCER_NAME } from './channel/endpoint-balancer.ts';
export { MESH_CHANNEL_OPTION } from './channel/mesh-channel-option.ts';
export { registerWeft } from './channel/registration.ts';
export {
  type ClientConstructor,
  type CreateMeshClientOptions,
  createMeshClient,
  type MeshClientOptions,
  meshClientOptions,
} from './client/mesh-client-options.ts';
export {
  type GrpcAttemptEvent,
  type GrpcCallEvent,
  type GrpcCallType,
  GrpcEvents,
  type GrpcServerCallEvent,
  grpcEvents,
} from './events/grpc-events.ts';
export {
  ALLOW,
  type AuthContext,
  type InboundCallInfo,
  type InboundPolicy,
  type InboundVerdict,
} from './inbound/inbound-policy.ts';
export { currentIncomingCall, type IncomingCall, runInIncomingCall } from './inbound/incoming-call.ts';
export {
  type MeshInboundPolicy,
  type MeshInboundPolicyOptions,
  meshInboundPolicy,
} from './inbound/mesh-inbound-policy.ts';
export { createMeshServer, MeshServer, type MeshServerOptions } from './inbound/mesh-server.ts';
export {
  type MeshServerInterceptorOptions,
  meshServerInterceptor,
} from './inbound/mesh-server-interceptor.ts';
export { type MeshInterceptorOptions, meshInterceptor } from './outbound/mesh-interceptor.ts';
export { NON_IDEMPOTENT_RETRY_ANNOTATION } from './outbound/outbound-context.ts';
export {
  type ChannelTarget,
  type MeshTransportSecurity,
  meshTransportSecurity,
  PLAINTEXT_TRANSPORT,
} from './security/transport-security.ts';
export { grpcStatusToHttp, httpStatusToGrpc } from './status/grpc-status-mapping.ts';
export {
  ERROR_CODE_METADATA,
  RESPONSE_FLAGS_METADATA,
  type ResponseFlag,
  ResponseFlags,
} from './status/response-flags.ts';
export { WEFT_SCHEME } from './target/mesh-target.ts';
