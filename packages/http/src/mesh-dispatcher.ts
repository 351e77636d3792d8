import type { Mesh } from '@weft/core';
import { Agent, type Dispatcher } from 'undici';
import { type MeshInterceptorOptions, meshInterceptor } from './outbound/mesh-interceptor.ts';

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
  const base = options.dispatcher ?? new Agent(options.agentOptions);
  return base.compose(meshInterceptor(mesh, options));
}
