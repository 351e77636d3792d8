import { type Mesh, resolvePoolLimits, undiciPoolOptions } from '@weft/core';
import { Agent, type Dispatcher, Pool } from 'undici';
import { EndpointPoolOptions } from './outbound/endpoint-pool-options.ts';
import { type MeshInterceptorOptions, meshInterceptor } from './outbound/mesh-interceptor.ts';
import { closingAlso } from './outbound/tls/closing-also.ts';
import { UpstreamTransport } from './outbound/tls/upstream-transport.ts';

export interface MeshDispatcherOptions extends MeshInterceptorOptions {
  /** The dispatcher requests finally go through; a new undici Agent when absent. */
  readonly dispatcher?: Dispatcher;
  /** Options for the Agent created when `dispatcher` is absent. */
  readonly agentOptions?: Agent.Options;
}

/**
 * An undici Dispatcher that applies the mesh to every request: `undici.request(url, {
 * dispatcher })`, `undici.fetch`, `undici.stream`, or `setGlobalDispatcher(dispatcher)` so that
 * code that never imports Weft, calling plain `fetch`, is meshed too. Hosts the mesh does not
 * know pass through unchanged (ALLOW_ANY) or are refused (REGISTRY_ONLY).
 */
export function createMeshDispatcher(mesh: Mesh, options: MeshDispatcherOptions = {}): Dispatcher {
  if (options.dispatcher !== undefined) {
    // TLS connections (mTLS, origination) are Weft's own, made next to the given dispatcher.
    const transport = new UpstreamTransport(mesh);
    const composed = options.dispatcher.compose(meshInterceptor(mesh, { ...options, transport }));
    return closingAlso(composed, transport);
  }
  // Our own Agent creates each endpoint's pool with its cluster's connection settings.
  const endpointPools = new EndpointPoolOptions((runtime) =>
    undiciPoolOptions(resolvePoolLimits(runtime.cluster.policy.connectionPool)),
  );
  const agent = new Agent({
    ...options.agentOptions,
    factory: (origin, poolOptions) => {
      const key = typeof origin === 'string' ? origin : origin.origin;
      const settings = endpointPools.forOrigin(key);
      return new Pool(origin, settings === undefined ? poolOptions : { ...poolOptions, ...settings });
    },
  });
  const transport = new UpstreamTransport(mesh, {
    endpointPools,
    ...(options.agentOptions === undefined ? {} : { basePoolOptions: options.agentOptions }),
  });
  // Closing (or destroying) the dispatcher closes the TLS pools too.
  return closingAlso(
    agent.compose(meshInterceptor(mesh, { ...options, endpointPools, transport })),
    transport,
  );
}
