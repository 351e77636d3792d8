import { type PeerRefusal, PeerVerificationError } from '../identity/peer-verification-error.ts';
import { UpstreamTlsError } from './upstream-tls-error.ts';

/**
 * Why a TLS connection to an upstream failed, in stable words. The peer refusals are the identity
 * checks' own (docs/identity.md); the others:
 * - `san-mismatch`: TLS origination (SIMPLE, MUTUAL) to a server whose certificate names none of
 *   the expected subject alternative names (or not the SNI host);
 * - `peer-refused-certificate`: the server refused *our* certificate (untrusted, expired, or none
 *   sent). Under TLS 1.3 this arrives after the client's handshake completed, on its first read
 *   (bad-inputs E4);
 * - `handshake`: anything else that broke the handshake (a plaintext server, a reset, a protocol
 *   or cipher mismatch): a connection failure, not an authentication one;
 * - `identity-unavailable`: mTLS is required and the workload has no certificate (yet);
 * - `configuration`: the settings cannot be used (a file that does not read, credentialName).
 */
export type TlsFailureReason =
  | PeerRefusal
  | 'san-mismatch'
  | 'peer-refused-certificate'
  | 'handshake'
  | 'identity-unavailable'
  | 'configuration';

export interface TlsFailure {
  readonly reason: TlsFailureReason;
  /**
   * One side refused the other's certificate: an authentication failure. The same peer would
   * refuse again, so it is never retried (bad-inputs E1, E4); outlier detection still counts it.
   */
  readonly isAuthentication: boolean;
}

/** OpenSSL's verdicts on the server's chain, as node reports them in `error.code`. */
const CHAIN_REFUSALS: ReadonlyMap<string, PeerRefusal | 'san-mismatch'> = new Map([
  ['CERT_HAS_EXPIRED', 'expired'],
  ['CERT_NOT_YET_VALID', 'not-yet-valid'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'san-mismatch'],
  ['HOSTNAME_MISMATCH', 'san-mismatch'],
  ...[
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_SIGNATURE_FAILURE',
    'CERT_UNTRUSTED',
    'CERT_REJECTED',
    'CERT_REVOKED',
    'CERT_CHAIN_TOO_LONG',
    'INVALID_CA',
    'INVALID_PURPOSE',
    'PATH_LENGTH_EXCEEDED',
    'UNABLE_TO_GET_CRL',
    'CRL_HAS_EXPIRED',
    'CRL_NOT_YET_VALID',
    'CRL_SIGNATURE_FAILURE',
    'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
    'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
    'ERROR_IN_CERT_NOT_BEFORE_FIELD',
    'ERROR_IN_CERT_NOT_AFTER_FIELD',
  ].map((code) => [code, 'untrusted'] as const),
]);

/** TLS alerts by which a server says it did not accept the client's certificate. */
const PEER_REFUSALS: ReadonlySet<string> = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

/**
 * What a TLS-level error from a connection (or its first read) means, or undefined when it is no
 * TLS error at all (ECONNREFUSED, a timeout: the usual connection failures). Looks at the error
 * and at its cause, since HTTP clients wrap socket errors.
 */
export function classifyTlsError(error: unknown): TlsFailure | undefined {
  return classifyOne(error) ?? classifyOne((error as { cause?: unknown } | undefined)?.cause);
}

function classifyOne(error: unknown): TlsFailure | undefined {
  if (error instanceof UpstreamTlsError)
    return { reason: error.reason, isAuthentication: error.isAuthentication };
  if (error instanceof PeerVerificationError) return { reason: error.refusal, isAuthentication: true };
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  const refusal = CHAIN_REFUSALS.get(code);
  if (refusal !== undefined) return { reason: refusal, isAuthentication: true };
  if (PEER_REFUSALS.has(code)) return { reason: 'peer-refused-certificate', isAuthentication: true };
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return { reason: 'handshake', isAuthentication: false };
  }
  return undefined;
}
