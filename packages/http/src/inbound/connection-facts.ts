import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type IdentityMaterial,
  type MeshSnapshot,
  type PeerIdentity,
  type PeerLabels,
  type PeerPolicy,
  peerIdentityFromSpiffeId,
} from '@weft/core';
import { type TlsPeerVerdict, tlsPeerOf } from './tls-peer.ts';
import { forwardedClientCert } from './trust-boundary.ts';

/**
 * What the pipeline knows of one connection, worked out on its first request and kept for the
 * rest: where it came from, whether the peer proved a mesh identity, and the source labels
 * telemetry reports for it under the current snapshot.
 */
export class ConnectionFacts {
  readonly tls: TlsPeerVerdict;
  /** The verified caller, for authorization; undefined unless mTLS proved one. */
  readonly peer: PeerIdentity | undefined;
  /** `spiffe://…` of the verified caller. */
  readonly spiffeId: string | undefined;
  /** `spiffe://…` this server proved to the caller over mTLS (destination_principal); undefined otherwise. */
  readonly ownSpiffeId: string | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The TLS server name the caller asked for. */
  readonly sni: string | undefined;
  /** The X-Forwarded-Client-Cert the application gets over mTLS (trust-boundary.ts). */
  readonly forwardedClientCert: string | undefined;
  /** `address:port` of each side, as access logs write them. */
  readonly downstreamRemote: string;
  readonly downstreamLocal: string;
  /** Telemetry's source labels for this peer, and the snapshot they were looked up in. */
  labels: PeerLabels | undefined = undefined;
  labelsSnapshot: MeshSnapshot | undefined = undefined;

  constructor(socket: Socket, tls: TlsPeerVerdict, ownSpiffeId: string | undefined) {
    this.tls = tls;
    const spiffeId = tls.kind === 'verified' ? tls.peer.spiffeId.uri : undefined;
    this.spiffeId = spiffeId;
    this.ownSpiffeId = spiffeId === undefined ? undefined : ownSpiffeId;
    this.forwardedClientCert =
      spiffeId === undefined ? undefined : forwardedClientCert(ownSpiffeId, spiffeId);
    this.peer = spiffeId === undefined ? undefined : peerIdentityFromSpiffeId(spiffeId);
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    const servername = (socket as Partial<TLSSocket>).servername;
    this.sni = typeof servername === 'string' ? servername : undefined;
    this.downstreamRemote = formatAddress(this.remoteAddress, this.remotePort);
    this.downstreamLocal = formatAddress(this.localAddress, this.localPort);
  }
}

const known = new WeakMap<Socket, ConnectionFacts>();

/** The facts of `socket`'s connection, worked out once. */
export function connectionFacts(
  socket: Socket,
  material: () => IdentityMaterial | undefined,
  policy: PeerPolicy,
  nowMs: () => number,
): ConnectionFacts {
  let facts = known.get(socket);
  if (facts === undefined) {
    const identity = material();
    facts = new ConnectionFacts(socket, tlsPeerOf(socket, identity, policy, nowMs()), identity?.spiffeId);
    known.set(socket, facts);
  }
  return facts;
}

function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
