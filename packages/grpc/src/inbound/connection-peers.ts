import type { PeerIdentity } from '@weft/core';

/** What a MeshServer's listener proved about one mTLS connection. */
export interface VerifiedConnection {
  /** `spiffe://…` of the client, verified in the handshake (chain and SVID checks). */
  readonly spiffeId: string;
  /** The same identity as authorization reads it (principal, namespace, service account). */
  readonly identity: PeerIdentity | undefined;
  /** The TLS server name the client asked for (`connection.sni`). */
  readonly sni: string | undefined;
  /** `spiffe://…` this server presented on the connection (telemetry's destination_principal). */
  readonly ownSpiffeId: string;
}

/**
 * The verified mTLS connections of one MeshServer, by their TCP 4-tuple as grpc-js reports it to
 * interceptors (`call.getConnectionInfo()`): grpc-js shows an interceptor the peer's certificate
 * but not the socket, and the listener has already verified that certificate's SPIFFE identity
 * once per connection. Plaintext connections are absent. Entries leave when the socket closes.
 */
export class ConnectionPeers {
  readonly #byKey = new Map<string, VerifiedConnection>();

  add(key: string, connection: VerifiedConnection): void {
    this.#byKey.set(key, connection);
  }

  remove(key: string): void {
    this.#byKey.delete(key);
  }

  get(key: string): VerifiedConnection | undefined {
    return this.#byKey.get(key);
  }

  get size(): number {
    return this.#byKey.size;
  }
}

/** The key of a connection: local port, remote address and port. */
export function connectionKey(localPort: number, remoteAddress: string, remotePort: number): string {
  return `${localPort} ${remoteAddress} ${remotePort}`;
}
