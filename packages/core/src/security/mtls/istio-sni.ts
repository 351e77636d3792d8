/**
 * The SNI Istio's sidecars send over ISTIO_MUTUAL: the cluster's name with `_.` between its parts,
 * `outbound_.9080_.v1_.reviews.default.svc.cluster.local` (`outbound_.9080_._.reviews…` without a
 * subset). Weft sends the same, so that an inbound server (Weft's or an Istio sidecar) sees the
 * name it expects, and AuthorizationPolicy conditions on `connection.sni` written for Istio match.
 */
export function istioMutualSni(host: string, port: number, subset: string | undefined): string {
  return `outbound_.${port}_.${subset ?? ''}_.${host}`;
}
