/**
 * The caller's mTLS identity as authorization reads it. Istio writes principals without the
 * `spiffe://` scheme (`cluster.local/ns/default/sa/sleep`), and derives `namespaces`,
 * `serviceAccounts` and `trustDomains` from the same certificate identity, so a plaintext caller
 * (no identity) matches none of them (bad-inputs E5).
 */
export interface PeerIdentity {
  /** The SPIFFE ID without `spiffe://`, e.g. `cluster.local/ns/default/sa/sleep`. */
  readonly principal: string;
  readonly trustDomain: string;
  /** Present only when the ID has Istio's `/ns/<namespace>/sa/<serviceAccount>` shape. */
  readonly namespace?: string;
  readonly serviceAccount?: string;
}

const SCHEME = 'spiffe://';

/**
 * The identity of a verified peer certificate's SPIFFE ID. The inbound server calls this once per
 * connection, after its SPIFFE verifier accepted the certificate; undefined for anything that is
 * not a `spiffe://` URI with a trust domain.
 */
export function peerIdentityFromSpiffeId(spiffeId: string): PeerIdentity | undefined {
  if (!spiffeId.startsWith(SCHEME)) return undefined;
  const principal = spiffeId.slice(SCHEME.length);
  const parts = principal.split('/');
  const trustDomain = parts[0] ?? '';
  if (trustDomain === '') return undefined;
  if (parts.length === 5 && parts[1] === 'ns' && parts[3] === 'sa' && parts[2] !== '' && parts[4] !== '') {
    return { principal, trustDomain, namespace: parts[2], serviceAccount: parts[4] };
  }
  return { principal, trustDomain };
}

/** A policy's principal value without a `spiffe://` the author wrote anyway (Istio's form has none). */
export function withoutSpiffeScheme(value: string): string {
  return value.startsWith(SCHEME) ? value.slice(SCHEME.length) : value;
}
