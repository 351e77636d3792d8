// The public API of @weft/http. Everything not exported here is internal and may change.

export { type WeftExpressMiddleware, weftExpress } from './inbound/express-middleware.ts';
export {
  type FastifyHookReply,
  type FastifyHookRequest,
  type FastifyHooks,
  type WeftFastifyPlugin,
  weftFastify,
} from './inbound/fastify-plugin.ts';
export {
  DEFAULT_MAX_HEADERS_COUNT,
  type InboundOptions,
  type UnderscoreHeadersAction,
} from './inbound/inbound-options.ts';
export { type MeshRequestListener, meshRequestListener } from './inbound/mesh-request-listener.ts';
export { createMeshServer, MeshServer, type MeshServerOptions } from './inbound/mesh-server.ts';
export { createMeshDispatcher, type MeshDispatcherOptions } from './mesh-dispatcher.ts';
export { createMeshFetch, type MeshFetch } from './mesh-fetch.ts';
export {
  type MeshInterceptorOptions,
  meshInterceptor,
  NON_IDEMPOTENT_RETRY_ANNOTATION,
} from './outbound/mesh-interceptor.ts';
export {
  ERROR_CODE_HEADER,
  RESPONSE_FLAGS_HEADER,
  type ResponseFlag,
  ResponseFlags,
} from './outbound/response-flags.ts';
export { DEADLINE_HEADER } from './propagation/deadline-header.ts';
