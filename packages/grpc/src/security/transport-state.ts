import type { Mesh, UpstreamTlsError } from '@weft/core';

/**
 * What the mesh's TLS connector learned about each connection (endpoint and transport, see
 * `connectionId`) of a mesh's gRPC channels, for those who cannot see the sockets:
 * - `peers`: the SPIFFE ID the server proved on the latest handshake, for telemetry's
 *   destination_principal (an endpoint's connections all present the same identity);
 * - `failures`: why the latest connection attempt failed at the TLS level, so the balancer's
 *   picker can tell a refused certificate (never retried) from a network failure.
 * One entry per connection id; a success clears its failure and a failure its peer.
 */
export class TransportState {
  readonly peers = new Map<string, string>();
  readonly failures = new Map<string, UpstreamTlsError>();

  handshake(id: string, peer: string): void {
    this.failures.delete(id);
    this.peers.set(id, peer);
  }

  failed(id: string, error: UpstreamTlsError): void {
    this.peers.delete(id);
    this.failures.set(id, error);
  }
}

const byMesh = new WeakMap<Mesh, TransportState>();

export function transportState(mesh: Mesh): TransportState {
  let state = byMesh.get(mesh);
  if (state === undefined) {
    state = new TransportState();
    byMesh.set(mesh, state);
  }
  return state;
}
