import { Server, type ServerOptions } from '@grpc/grpc-js';
import type { Mesh } from '@weft/core';
import { type MeshServerInterceptorOptions, meshServerInterceptor } from './mesh-server-interceptor.ts';

export interface MeshServerOptions extends MeshServerInterceptorOptions {
  /** grpc-js server options; their `interceptors` run after (inside) the mesh's. */
  readonly serverOptions?: ServerOptions;
}

/**
 * A grpc-js Server for a meshed service: deadlines and trace context of every call propagate to
 * the calls its handler makes, and the inbound policy (authn/authz) runs before any handler.
 * Add services and bind it as any grpc-js Server; for mTLS credentials see MeshTransportSecurity.
 */
export function createMeshServer(mesh: Mesh, options: MeshServerOptions = {}): Server {
  const { serverOptions = {}, ...interceptorOptions } = options;
  return new Server({
    ...serverOptions,
    interceptors: [meshServerInterceptor(mesh, interceptorOptions), ...(serverOptions.interceptors ?? [])],
  });
}
