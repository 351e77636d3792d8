import type { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';

/** The service a client channel is made for, as the mesh names it. */
export interface ChannelTarget {
  /** The host as the target wrote it (`reviews.default`), and the port when it had one. */
  readonly hostName: string;
  readonly port: number | undefined;
}

/**
 * Where mTLS plugs into @weft/grpc. Issue 7 asks for channel and server credentials from the mesh
 * identity (SPIFFE SVIDs, peer verification, PERMISSIVE plaintext-and-mTLS on one port), built on
 * @weft/core's workload certificates and TLS options (core `security/`); that wiring is not done
 * yet. Until it is, the default, PLAINTEXT_TRANSPORT, keeps whatever credentials the application
 * passed. An implementation will:
 * - `channelCredentials`: present the workload's SVID and accept an upstream only if its SPIFFE
 *   ID is one of the service's accounts (DestinationRule `tls.mode: ISTIO_MUTUAL`), following
 *   certificate rotation;
 * - `serverCredentials`: STRICT → mTLS; PERMISSIVE → both on one port, which grpc-js can do by
 *   injecting each connection, after a first-byte check, through `server.createConnectionInjector`.
 */
export interface MeshTransportSecurity {
  channelCredentials(target: ChannelTarget, given: ChannelCredentials): ChannelCredentials;
  serverCredentials(given: ServerCredentials): ServerCredentials;
}

/** No mesh TLS: the credentials the application gives are used as they are. */
export const PLAINTEXT_TRANSPORT: MeshTransportSecurity = Object.freeze({
  channelCredentials: (_target: ChannelTarget, given: ChannelCredentials) => given,
  serverCredentials: (given: ServerCredentials) => given,
});
