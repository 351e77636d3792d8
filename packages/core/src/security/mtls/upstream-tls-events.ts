import type { TlsFailureReason } from './tls-failure.ts';

/** The TLS an upstream connection was made with: Istio's DestinationRule modes (auto-mTLS is ISTIO_MUTUAL). */
export type UpstreamTlsMode = 'ISTIO_MUTUAL' | 'SIMPLE' | 'MUTUAL';

/**
 * One TLS handshake with an upstream, as the transport (HTTP, gRPC) reports it: one event per
 * connection, never per request. The mesh counts them (`weft_tls_handshake_failures_total`, and
 * Envoy-named stats `cluster.<name>.ssl.*` on /stats).
 */
export type UpstreamTlsEvent =
  | {
      readonly type: 'handshake';
      readonly cluster: string;
      /** `address:port`. */
      readonly endpoint: string;
      readonly mode: UpstreamTlsMode;
      /** Whether auto-mTLS chose mTLS (no DestinationRule said ISTIO_MUTUAL). */
      readonly isAuto: boolean;
      /** The server's verified SPIFFE ID (ISTIO_MUTUAL), when it has one. */
      readonly peer?: string;
      readonly atMs: number;
    }
  | {
      readonly type: 'handshake-failed';
      readonly cluster: string;
      readonly endpoint: string;
      readonly mode: UpstreamTlsMode;
      readonly isAuto: boolean;
      readonly reason: TlsFailureReason;
      readonly message: string;
      readonly atMs: number;
    };
