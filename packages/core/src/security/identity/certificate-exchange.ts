import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import { parseTrustBundle, type TrustBundle } from './trust-bundle.ts';

/**
 * `POST /v1/certificates` (PROTOCOL.md §4.4): a workload sends a CSR for the key it generated and
 * gets its SVID chain and the trust bundle back. It authenticates with a join token
 * (`Authorization: Bearer <token>`) the first time, and with its current SVID afterwards: the
 * chain plus a signature, by the current key, over the new CSR (so a stolen certificate alone
 * renews nothing, and the key can change at every renewal).
 */

export interface CertificateRequestBody {
  /** PEM `CERTIFICATE REQUEST` for the new key; its only SAN, if any, is the SPIFFE ID asked for. */
  readonly csr: string;
  /** Present when renewing with the current SVID instead of a join token. */
  readonly renewal?: RenewalProof;
}

export interface RenewalProof {
  /** PEM: the current SVID, then its intermediates. */
  readonly certificateChain: string;
  /** base64url signature by the current SVID's key over `renewalProofMessage(csr DER)`. */
  readonly signature: string;
}

export interface CertificateAnswer {
  readonly spiffeId: string;
  /** PEM: the new SVID, then its intermediates up to (not including) the root. */
  readonly certificateChain: string;
  readonly serialNumber: string;
  /** RFC 3339. */
  readonly notBefore: string;
  readonly notAfter: string;
  readonly trustBundle: TrustBundle;
}

/** What the current key signs to prove possession when renewing; bound to this use by its prefix. */
export function renewalProofMessage(csrDer: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('weft svid renewal v1\n', 'ascii'), csrDer]);
}

/** The agent's answer, checked for shape (the certificates themselves are verified by the caller). */
export function parseCertificateAnswer(body: unknown): CertificateAnswer {
  const fail = (reason: string): never => {
    throw new WeftError(
      ErrorCodes.identityUnavailable,
      `the agent's certificate answer is malformed: ${reason}`,
    );
  };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail('not an object');
  const answer = body as Record<string, unknown>;
  for (const field of ['spiffeId', 'certificateChain', 'serialNumber', 'notBefore', 'notAfter'] as const) {
    if (typeof answer[field] !== 'string') fail(`${field} is not a string`);
  }
  return {
    spiffeId: answer.spiffeId as string,
    certificateChain: answer.certificateChain as string,
    serialNumber: answer.serialNumber as string,
    notBefore: answer.notBefore as string,
    notAfter: answer.notAfter as string,
    trustBundle: parseTrustBundle(answer.trustBundle, "the answer's trustBundle"),
  };
}
