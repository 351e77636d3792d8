import { createHash, type KeyObject, sign } from 'node:crypto';
import { readPemBlocks } from '../security/x509/pem.ts';

/**
 * The SVID proof (PROTOCOL.md §4.2): how a workload that holds an SVID from the agents' CA
 * authorizes its own registration calls without any shared secret.
 *
 *   Authorization: Weft-SVID v1.<timestamp ms>.<certificate>[~<certificate>…].<signature>
 *
 * Each certificate is the base64url DER of the SVID, then its intermediates; the signature is
 * base64url, by the SVID's key, over `svidProofMessage`: the method, the API path, the timestamp
 * and the SHA-256 of the exact body bytes. A proof therefore authorizes one request only (another
 * method, path or body breaks it), for a few minutes around its timestamp; its message has its
 * own prefix, so no signature made for anything else (a renewal proof, a TLS handshake) passes.
 * Shared by the client, which makes proofs, and the agent, which reads and checks them.
 */
export const SVID_PROOF_SCHEME = 'Weft-SVID';
const VERSION = 'v1';
/** How far a proof's timestamp may be from the agent's clock, either way. */
export const SVID_PROOF_MAX_SKEW_MS = 5 * 60_000;
/** The SVID and at most four intermediates, as certificate requests take them. */
export const MAX_SVID_PROOF_CERTIFICATES = 5;
/** Characters of the credentials after the scheme: a chain of five certificates fits, far more does not. */
export const MAX_SVID_PROOF_CHARS = 12 * 1024;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TIMESTAMP = /^[0-9]{1,16}$/;

export interface SvidProofRequest {
  readonly method: string;
  /** The API path as the agent routes it (`/v1/leases/42`), without the query or any base prefix. */
  readonly path: string;
  /** The exact bytes sent as the body; undefined or empty for none. */
  readonly body: Uint8Array | undefined;
}

/** What `readSvidProof` found in an `Authorization: Weft-SVID …` header. */
export interface SvidProof {
  readonly timestampMs: number;
  /** DER, the SVID first. */
  readonly certificates: readonly Buffer[];
  readonly signature: Buffer;
}

/** The hex SHA-256 of a body (of no bytes, for none). */
export function bodySha256(body: Uint8Array | undefined): string {
  return createHash('sha256')
    .update(body ?? new Uint8Array())
    .digest('hex');
}

/** The bytes the SVID's key signs: one line per field, under a prefix that names this use. */
export function svidProofMessage(input: {
  readonly method: string;
  readonly path: string;
  readonly timestampMs: number;
  readonly bodySha256: string;
}): Buffer {
  return Buffer.from(
    `weft workload request ${VERSION}\n${input.method}\n${input.path}\n${input.timestampMs}\n${input.bodySha256}`,
    'utf8',
  );
}

/** The whole `Authorization` header value proving `request` comes from the holder of `chainPem`'s key. */
export function createSvidProof(
  identity: { readonly chainPem: string; readonly privateKey: KeyObject },
  request: SvidProofRequest,
  timestampMs: number,
): string {
  const timestamp = Math.floor(timestampMs);
  const certificates = readPemBlocks(identity.chainPem, 'CERTIFICATE', MAX_SVID_PROOF_CERTIFICATES);
  const message = svidProofMessage({
    method: request.method,
    path: request.path,
    timestampMs: timestamp,
    bodySha256: bodySha256(request.body),
  });
  const signature = sign('sha256', message, identity.privateKey);
  const chain = certificates.map((der) => der.toString('base64url')).join('~');
  return `${SVID_PROOF_SCHEME} ${VERSION}.${timestamp}.${chain}.${signature.toString('base64url')}`;
}

/**
 * Reads the credentials of an `Authorization: Weft-SVID …` header (the part after the scheme).
 * Checks the shape only: the chain, the timestamp and the signature are the agent's to verify.
 */
export function readSvidProof(
  credentials: string,
): { readonly ok: true; readonly proof: SvidProof } | { readonly ok: false; readonly reason: string } {
  const refuse = (reason: string) => ({ ok: false as const, reason });
  if (credentials.length > MAX_SVID_PROOF_CHARS) {
    return refuse(`the proof is longer than ${MAX_SVID_PROOF_CHARS} characters`);
  }
  const fields = credentials.trim().split('.');
  if (fields.length !== 4) return refuse(`the proof must be ${VERSION}.<timestamp>.<chain>.<signature>`);
  const [version = '', timestamp = '', chain = '', signature = ''] = fields;
  if (version !== VERSION)
    return refuse(`proof version ${JSON.stringify(version.slice(0, 16))} is not ${VERSION}`);
  if (!TIMESTAMP.test(timestamp)) return refuse('the timestamp must be Unix milliseconds');
  const parts = chain.split('~');
  if (parts.length > MAX_SVID_PROOF_CERTIFICATES) {
    return refuse(`the chain has more than ${MAX_SVID_PROOF_CERTIFICATES} certificates`);
  }
  if (!parts.every((part) => BASE64URL.test(part))) return refuse('each certificate must be base64url DER');
  if (!BASE64URL.test(signature) || signature.length > 1024) return refuse('the signature must be base64url');
  return {
    ok: true,
    proof: {
      timestampMs: Number(timestamp),
      certificates: parts.map((part) => Buffer.from(part, 'base64url')),
      signature: Buffer.from(signature, 'base64url'),
    },
  };
}
