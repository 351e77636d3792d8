import type { TelemetryCall } from '@weft/core';
import type { EndpointTransport } from './endpoint-transport.ts';

/**
 * What the connection tells Istio's labels: connection_security_policy (`mutual_tls` / `none`) and,
 * over mTLS, source_principal (this workload's SPIFFE ID). Set as each attempt starts, so the
 * labels describe the attempt that answered.
 */
export function noteTransport(call: TelemetryCall, transport: EndpointTransport): void {
  if (transport.kind === 'refused') return;
  call.connectionSecurityPolicy = transport.securityPolicy;
  call.sourcePrincipal = transport.kind === 'tls' ? transport.sourcePrincipal : undefined;
  call.destinationPrincipal = undefined;
}

/**
 * destination_principal: the SPIFFE ID the server proved. It is known once the connection is
 * made, so it is read when the attempt ends; it is the identity verified on the pool's latest
 * handshake, which all of one endpoint's connections present.
 */
export function noteVerifiedPeer(call: TelemetryCall, transport: EndpointTransport): void {
  if (transport.kind === 'tls' && transport.pool.peer !== undefined) {
    call.destinationPrincipal = transport.pool.peer;
  }
}
