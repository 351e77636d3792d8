import type { RequestListener } from 'node:http';
import type { Mesh } from '@weft/core';
import type { InboundEntry } from './inbound-entry.ts';
import type { InboundOptions } from './inbound-options.ts';
import { InboundPipeline } from './inbound-pipeline.ts';

/** A request listener with the inbound pipeline in front; `close()` releases what it holds. */
export type MeshRequestListener = RequestListener & { close(): void };

const LISTENER_ENTRY: InboundEntry<RequestListener> = {
  pathChange: 'rewrite',
  proceed: (request, response, handler) => handler(request, response),
};

/**
 * The inbound pipeline as a node:http request listener, for a server the application owns
 * (`https.createServer(tlsOptions, meshRequestListener(mesh, handler))`). The connection's TLS
 * state is read from each request's socket: a client certificate is verified against the mesh's
 * trust bundle, whatever CAs the server trusts. Prefer createMeshServer, which also applies
 * PeerAuthentication to the connection itself (PERMISSIVE on one port, STRICT refusing plaintext).
 */
export function meshRequestListener(
  mesh: Mesh,
  handler: RequestListener,
  options: InboundOptions = {},
): MeshRequestListener {
  const pipeline = new InboundPipeline(mesh, options);
  const listener: RequestListener = (request, response) =>
    pipeline.handle(request, response, LISTENER_ENTRY, handler);
  return Object.assign(listener, { close: () => pipeline.close() });
}
