import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { type CertificateFacts, readCertificate } from '../x509/certificate-reader.ts';
import { DerError } from '../x509/der-reader.ts';
import { type PeerRefusal, PeerVerificationError } from './peer-verification-error.ts';
import type { SpiffeId } from './spiffe-id.ts';
import { checkLeafSvid, type SvidRole } from './svid-rules.ts';

/**
 * Who a peer is, from its certificate chain: the checks node's TLS does not make. Node verifies
 * the chain against the trust bundle (given as `ca`) and validity dates, but its hostname check
 * ignores URI SANs (bad-inputs E7), so Weft checks the SPIFFE identity itself, on both sides.
 */

export interface PeerPolicy {
  /** Trust domains accepted besides the bundle's own (Istio's trustDomainAliases: same roots). */
  readonly trustDomainAliases?: readonly string[];
  /**
   * When given, the peer's SPIFFE ID must be one of these (or pass this predicate): e.g. the
   * identities a destination service may run as.
   */
  readonly allowedIds?: readonly string[] | ((spiffeId: SpiffeId) => boolean);
}

export interface VerifiedPeer {
  readonly spiffeId: SpiffeId;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * The SPIFFE checks on a peer's leaf certificate, whose chain someone (node's TLS, or
 * verifySvidChain) has already verified: an X509-SVID for `role`, of an accepted trust domain,
 * and allowed by the policy.
 */
export function checkPeerCertificate(
  certificate: X509Certificate | Uint8Array,
  trustDomain: string,
  policy: PeerPolicy,
  role: SvidRole | undefined,
): VerifiedPeer {
  const facts = factsOf(certificate);
  const spiffeId = checkLeafSvid(facts, role);
  if (
    spiffeId.trustDomain !== trustDomain &&
    !(policy.trustDomainAliases ?? []).includes(spiffeId.trustDomain)
  ) {
    throw new PeerVerificationError(
      'foreign-trust-domain',
      `the peer ${spiffeId.uri} is of trust domain ${spiffeId.trustDomain}; accepted: ${[trustDomain, ...(policy.trustDomainAliases ?? [])].join(', ')}`,
    );
  }
  const allowed = policy.allowedIds;
  if (
    allowed !== undefined &&
    !(typeof allowed === 'function' ? allowed(spiffeId) : allowed.includes(spiffeId.uri))
  ) {
    throw new PeerVerificationError(
      'identity-not-allowed',
      `the peer ${spiffeId.uri} is not an identity allowed here`,
    );
  }
  return { spiffeId, serialNumber: facts.serialNumber, notBefore: facts.notBefore, notAfter: facts.notAfter };
}

/**
 * After a TLS handshake with `requestCert`/`rejectUnauthorized` and the trust bundle as `ca`:
 * node's verdict on the chain, then the SPIFFE checks on the peer's leaf. `role` is the role of
 * the *peer* (`client` on a server socket).
 */
export function verifyTlsPeer(
  socket: TLSSocket,
  trustDomain: string,
  policy: PeerPolicy,
  role: SvidRole,
): VerifiedPeer {
  if (!socket.authorized) {
    const error = socket.authorizationError;
    throw new PeerVerificationError(
      refusalOfTlsError(error),
      `the peer's certificate was not accepted: ${String(error)}`,
    );
  }
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined)
    throw new PeerVerificationError('untrusted', 'the peer presented no certificate');
  return checkPeerCertificate(certificate, trustDomain, policy, role);
}

export interface ChainVerification {
  readonly trustDomain: string;
  readonly roots: readonly X509Certificate[];
  readonly nowMs: number;
}

/** Longest chain accepted: leaf, a few intermediates. */
const MAX_CHAIN_LENGTH = 5;

/**
 * Verifies a chain (leaf first) that did not come through TLS — a workload's current SVID
 * proving who it is when it renews — with node:crypto: every signature, every validity window,
 * intermediates being CAs, and a root of the bundle at the end; then the SPIFFE checks.
 */
export function verifySvidChain(
  chain: readonly X509Certificate[],
  verification: ChainVerification,
  policy: PeerPolicy = {},
  role?: SvidRole,
): VerifiedPeer {
  const leaf = chain[0];
  if (leaf === undefined) throw new PeerVerificationError('untrusted', 'the chain is empty');
  if (chain.length > MAX_CHAIN_LENGTH) {
    throw new PeerVerificationError(
      'untrusted',
      `the chain has ${chain.length} certificates; at most ${MAX_CHAIN_LENGTH}`,
    );
  }
  const peer = checkPeerCertificate(leaf, verification.trustDomain, policy, role);
  checkValidity(factsOf(leaf), verification.nowMs, 'the certificate');
  let current = leaf;
  for (const [index, issuer] of chain.slice(1).entries()) {
    const facts = factsOf(issuer);
    if (
      facts.basicConstraints?.isCa !== true ||
      (facts.keyUsage !== undefined && !facts.keyUsage.has('keyCertSign'))
    ) {
      throw new PeerVerificationError('untrusted', `chain[${index + 1}] is not a CA certificate`);
    }
    checkValidity(facts, verification.nowMs, `chain[${index + 1}]`);
    if (!current.checkIssued(issuer) || !current.verify(issuer.publicKey)) {
      throw new PeerVerificationError('untrusted', `chain[${index}] is not signed by chain[${index + 1}]`);
    }
    current = issuer;
  }
  const root = verification.roots.find(
    (candidate) =>
      candidate.raw.equals(current.raw) ||
      (current.checkIssued(candidate) && current.verify(candidate.publicKey)),
  );
  if (root === undefined) {
    throw new PeerVerificationError('untrusted', 'the chain does not lead to a root of the trust bundle');
  }
  checkValidity(factsOf(root), verification.nowMs, 'the root');
  return peer;
}

function checkValidity(facts: CertificateFacts, nowMs: number, what: string): void {
  if (nowMs < facts.notBefore.getTime()) {
    throw new PeerVerificationError(
      'not-yet-valid',
      `${what} is not valid before ${facts.notBefore.toISOString()}`,
    );
  }
  if (nowMs > facts.notAfter.getTime()) {
    throw new PeerVerificationError('expired', `${what} expired at ${facts.notAfter.toISOString()}`);
  }
}

function factsOf(certificate: X509Certificate | Uint8Array): CertificateFacts {
  try {
    return readCertificate(certificate instanceof Uint8Array ? certificate : certificate.raw);
  } catch (error) {
    if (error instanceof DerError) {
      throw new PeerVerificationError('not-an-svid', `the certificate cannot be read: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** OpenSSL's verdicts as node reports them (`socket.authorizationError`). */
function refusalOfTlsError(error: Error | undefined): PeerRefusal {
  const code = (error as { code?: unknown } | undefined)?.code ?? String(error);
  if (code === 'CERT_HAS_EXPIRED') return 'expired';
  if (code === 'CERT_NOT_YET_VALID') return 'not-yet-valid';
  return 'untrusted';
}
