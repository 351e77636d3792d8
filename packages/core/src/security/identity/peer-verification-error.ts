import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';

/**
 * Why a peer's certificate was not accepted as a SPIFFE identity. Stable strings: the mTLS code
 * classifies on them (an expired or untrusted peer is an authentication failure, never retried
 * as if it were a network error — bad-inputs E1, E4).
 */
export type PeerRefusal =
  /** No certificate, or a chain that does not lead to a root of the trust bundle. */
  | 'untrusted'
  /** The certificate (or one in its chain) is past its notAfter. */
  | 'expired'
  /** The certificate (or one in its chain) is before its notBefore. */
  | 'not-yet-valid'
  /** Not an X509-SVID: no or several URI SANs, not spiffe://, a CA, wrong key usage. */
  | 'not-an-svid'
  /** A valid SVID of a trust domain this workload does not accept. */
  | 'foreign-trust-domain'
  /** A valid SVID of an identity the caller did not allow. */
  | 'identity-not-allowed';

export class PeerVerificationError extends WeftError {
  readonly refusal: PeerRefusal;

  constructor(refusal: PeerRefusal, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.unauthenticated, message, options);
    this.name = 'PeerVerificationError';
    this.refusal = refusal;
  }
}
