import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Mesh } from '@weft/core';
import { MeshChannelCredentials } from './mesh-channel-credentials.ts';

/** The service a client channel is made for, as the mesh names it. */
export interface ChannelTarget {
  /** The host as the target wrote it (`reviews.default`), and the port when it had one. */
  readonly hostName: string;
  readonly port: number | undefined;
}

/**
 * How the connections of a meshed client's channel are secured.
 *
 * - `meshTransportSecurity(mesh)` (the default of createMeshClient and meshClientOptions): each
 *   endpoint as the mesh says — DestinationRule `tls.mode: ISTIO_MUTUAL`, or Istio's auto-mTLS
 *   when the rule has no `tls` (mTLS to mesh workloads whose PeerAuthentication accepts it, when
 *   this workload has an identity) — with the workload's SVID from `mesh.identity`, verifying
 *   the server's SPIFFE ID against the destination service's accounts. Plaintext endpoints use
 *   the credentials the application gave (insecure by default).
 * - `PLAINTEXT_TRANSPORT`: the application's credentials for every endpoint, no mesh TLS.
 */
export interface MeshTransportSecurity {
  channelCredentials(target: ChannelTarget, given: ChannelCredentials): ChannelCredentials;
  /**
   * Whether connections follow the mesh's TLS settings, so telemetry may report each attempt's
   * connection_security_policy and principals from them; `unknown` otherwise.
   */
  readonly isMeshTls: boolean;
}

/** No mesh TLS: the credentials the application gives are used as they are. */
export const PLAINTEXT_TRANSPORT: MeshTransportSecurity = Object.freeze({
  channelCredentials: (_target: ChannelTarget, given: ChannelCredentials) => given,
  isMeshTls: false,
});

/** mTLS with the mesh's identity wherever the mesh's TLS settings ask for it. */
export function meshTransportSecurity(mesh: Mesh): MeshTransportSecurity {
  return {
    channelCredentials: (_target, given) => new MeshChannelCredentials(mesh, given),
    isMeshTls: true,
  };
}
