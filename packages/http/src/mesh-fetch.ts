import type { Mesh } from '@weft/core';
import { type Dispatcher, fetch as undiciFetch } from 'undici';
import { createMeshDispatcher, type MeshDispatcherOptions } from './mesh-dispatcher.ts';

/** The WHATWG fetch signature, as undici implements it. */
export type MeshFetch = typeof undiciFetch;

/**
 * A drop-in `fetch` whose requests go through the mesh. Pass `dispatcher` in options to share
 * one meshed dispatcher between fetch and `undici.request`.
 */
export function createMeshFetch(
  mesh: Mesh,
  options: MeshDispatcherOptions & { readonly meshDispatcher?: Dispatcher } = {},
): MeshFetch {
  const dispatcher = options.meshDispatcher ?? createMeshDispatcher(mesh, options);
  const meshed: MeshFetch = (input, init) => undiciFetch(input, { ...init, dispatcher });
  return meshed;
}
