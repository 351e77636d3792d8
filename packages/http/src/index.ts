// The public API of @weft/http. Everything not exported here is internal and may change.

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
