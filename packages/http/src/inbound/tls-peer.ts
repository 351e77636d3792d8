import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { type IdentityMaterial, type PeerPolicy, type VerifiedPeer, verifySvidChain } from '@weft/core';

/** What a connection proved about its peer. */
export type TlsPeerVerdict =
  | { readonly kind: 'plaintext' }
  /** TLS without a client certificate: encrypted, but nobody was authenticated (not mTLS). */
  | { readonly kind: 'anonymous-tls' }
  | { readonly kind: 'verified'; readonly peer: VerifiedPeer }
  /** A client certificate that is not an acceptable SVID of the mesh. */
  | { readonly kind: 'refused'; readonly reason: string };

const PLAINTEXT: TlsPeerVerdict = Object.freeze({ kind: 'plaintext' });
const ANONYMOUS_TLS: TlsPeerVerdict = Object.freeze({ kind: 'anonymous-tls' });

/** Peers Weft's own TLS server verified during the connection's handshake (acceptTlsPeer). */
const acceptedPeers = new WeakMap<Socket, VerifiedPeer>();

export function recordAcceptedPeer(socket: TLSSocket, peer: VerifiedPeer): void {
  acceptedPeers.set(socket, peer);
}

/** Longest chain read from a foreign TLS server's peer: leaf and a few intermediates. */
const MAX_CHAIN = 5;

const bundleRoots = new WeakMap<IdentityMaterial, readonly X509Certificate[]>();

/**
 * Who is at the other end of `socket`. For connections Weft's own server accepted, the peer it
 * verified then. For a TLS connection of a server the application owns (the middleware case),
 * the client certificate's chain is verified here, with node:crypto, against the mesh's trust
 * bundle — whatever CAs the application's server trusts — and then the SPIFFE checks; without
 * identity material, no certificate can be verified and one is refused.
 */
export function tlsPeerOf(
  socket: Socket,
  material: IdentityMaterial | undefined,
  policy: PeerPolicy,
  nowMs: number,
): TlsPeerVerdict {
  const accepted = acceptedPeers.get(socket);
  if (accepted !== undefined) return { kind: 'verified', peer: accepted };
  if ((socket as Partial<TLSSocket>).encrypted !== true) return PLAINTEXT;
  const tlsSocket = socket as TLSSocket;
  const detailed = tlsSocket.getPeerCertificate(true);
  if (detailed === null || detailed.raw === undefined) return ANONYMOUS_TLS;
  if (material === undefined) {
    return { kind: 'refused', reason: 'a client certificate, and no mesh identity to verify it with' };
  }
  try {
    const peer = verifySvidChain(
      chainOf(detailed),
      { trustDomain: material.trustDomain, roots: rootsOf(material), nowMs },
      policy,
      'client',
    );
    return { kind: 'verified', peer };
  } catch (error) {
    return { kind: 'refused', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Leaf first, following issuerCertificate until the chain ends or loops (a self-signed root). */
function chainOf(leaf: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current: DetailedPeerCertificate | undefined = leaf;
  const seen = new Set<DetailedPeerCertificate>();
  while (current?.raw !== undefined && !seen.has(current) && chain.length < MAX_CHAIN) {
    seen.add(current);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

function rootsOf(material: IdentityMaterial): readonly X509Certificate[] {
  let roots = bundleRoots.get(material);
  if (roots === undefined) {
    roots = material.trustBundlePem.map((pem) => new X509Certificate(pem));
    bundleRoots.set(material, roots);
  }
  return roots;
}
