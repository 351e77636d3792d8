import { type KeyObject, verify, X509Certificate } from 'node:crypto';
import {
  type CertificationRequest,
  DerError,
  JoinTokenError,
  PeerVerificationError,
  readCertificationRequest,
  readPemBlock,
  readPemBlocks,
  renewalProofMessage,
  type SpiffeId,
  verifySvidChain,
} from '@weft/core';
import { HttpError } from '../http/http-error.ts';
import type { CertificateAuthority } from './certificate-authority.ts';
import type { JoinTokens } from './join-tokens.ts';
import { isIdentityRevoked } from './revocations.ts';

export interface AdmissionDeps {
  readonly ca: CertificateAuthority;
  readonly tokens: JoinTokens;
  readonly wallClock: () => number;
  readonly backdateMs: number;
}

export interface AdmittedRequest {
  readonly spiffeId: SpiffeId;
  readonly csr: CertificationRequest;
  readonly credential: 'join-token' | 'renewal';
}

const MAX_PEM_CHARS = 16 * 1024;

/**
 * Decides whether a certificate request gets an SVID, and for which identity. The identity comes
 * from the credential only — a join token, or the requester's current SVID with proof that it
 * holds its key — never from the request itself, and never from where the request came from
 * (bad-inputs B9: loopback is not an identity). A join token is checked before the body is even
 * read; the CSR is parsed only after the credential checked out, under size and depth caps (B8,
 * E15), its self-signature verified with node:crypto; it may name no identity but the credential's.
 */
export async function admitCertificateRequest(
  authorization: string | undefined,
  readRequestBody: () => Promise<unknown>,
  deps: AdmissionDeps,
): Promise<AdmittedRequest> {
  const token = bearerToken(authorization);
  let spiffeId: SpiffeId | undefined;
  if (token !== undefined) {
    try {
      spiffeId = (await deps.tokens.verify(token)).spiffeId;
    } catch (error) {
      if (error instanceof JoinTokenError) throw unauthorized(error.message, error);
      throw error;
    }
  }
  const fields = readBody(await readRequestBody());
  if (token !== undefined && fields.renewal !== undefined) {
    throw new HttpError(
      400,
      'bad-request',
      'give one credential: a join token (Authorization) or a renewal proof, not both',
    );
  }
  let renewalKey: KeyObject | undefined;
  if (spiffeId === undefined) {
    if (fields.renewal === undefined) {
      throw unauthorized(
        'a certificate request needs a join token (Authorization: Bearer …) or a renewal proof',
      );
    }
    const current = authenticateRenewal(fields.renewal.certificateChain, deps);
    // An SVID's issuance time is its notBefore plus the back-dating the CA applied.
    const revocations = await deps.tokens.revocations();
    if (isIdentityRevoked(revocations, current.spiffeId.uri, current.notBeforeMs + deps.backdateMs)) {
      throw unauthorized(
        `${current.spiffeId.uri} was revoked after this certificate was issued: join again with a new token`,
      );
    }
    spiffeId = current.spiffeId;
    renewalKey = current.publicKey;
  }
  let csrDer: Buffer;
  let csr: CertificationRequest;
  try {
    csrDer = readPemBlock(fields.csr, 'CERTIFICATE REQUEST');
    csr = readCertificationRequest(csrDer);
  } catch (error) {
    if (error instanceof DerError)
      throw new HttpError(400, 'bad-request', `csr: ${error.message}`, { cause: error });
    throw error;
  }
  if (renewalKey !== undefined) {
    const signature = Buffer.from(fields.renewal?.signature ?? '', 'base64url');
    if (!verify('sha256', renewalProofMessage(csrDer), renewalKey, signature)) {
      throw unauthorized("renewal.signature is not a signature of the CSR by the current certificate's key");
    }
  }
  checkRequestedIdentity(csr, spiffeId);
  return { spiffeId, csr, credential: token === undefined ? 'renewal' : 'join-token' };
}

interface RequestFields {
  readonly csr: string;
  readonly renewal: { readonly certificateChain: string; readonly signature: string } | undefined;
}

function readBody(body: unknown): RequestFields {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'bad-request', 'the body must be a JSON object { csr, renewal? }');
  }
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'csr' && key !== 'renewal')
      throw new HttpError(400, 'bad-request', `unknown field ${JSON.stringify(key)}`);
  }
  if (typeof record.csr !== 'string' || record.csr.length > MAX_PEM_CHARS) {
    throw new HttpError(
      400,
      'bad-request',
      `csr must be a PEM CERTIFICATE REQUEST of at most ${MAX_PEM_CHARS} characters`,
    );
  }
  const renewal = record.renewal;
  if (renewal === undefined) return { csr: record.csr, renewal: undefined };
  const proof = renewal as Record<string, unknown> | null;
  if (
    proof === null ||
    typeof proof !== 'object' ||
    typeof proof.certificateChain !== 'string' ||
    proof.certificateChain.length > MAX_PEM_CHARS ||
    typeof proof.signature !== 'string' ||
    proof.signature.length > 2048 ||
    Object.keys(proof).length !== 2
  ) {
    throw new HttpError(
      400,
      'bad-request',
      'renewal must be { certificateChain: PEM, signature: base64url }',
    );
  }
  return {
    csr: record.csr,
    renewal: { certificateChain: proof.certificateChain, signature: proof.signature },
  };
}

function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (match === null) throw unauthorized('Authorization must be "Bearer <join token>"');
  return match[1];
}

/** The current SVID as a credential: a chain to a root the CA trusts now, not revoked. */
function authenticateRenewal(
  chainPem: string,
  deps: AdmissionDeps,
): { spiffeId: SpiffeId; publicKey: KeyObject; notBeforeMs: number } {
  const bundle = deps.ca.trustBundle();
  if (bundle === undefined)
    throw new HttpError(503, 'ca-unavailable', 'the CA has no root that may sign now');
  try {
    const chain = readPemBlocks(chainPem, 'CERTIFICATE', 5).map((der) => new X509Certificate(der));
    const roots = bundle.roots.map((pem) => new X509Certificate(pem));
    const peer = verifySvidChain(chain, { trustDomain: bundle.trustDomain, roots, nowMs: deps.wallClock() });
    const leaf = chain[0] as X509Certificate;
    return { spiffeId: peer.spiffeId, publicKey: leaf.publicKey, notBeforeMs: peer.notBefore.getTime() };
  } catch (error) {
    if (error instanceof PeerVerificationError || error instanceof DerError) {
      throw unauthorized(
        `renewal.certificateChain is not a current SVID of this CA: ${error.message}`,
        error,
      );
    }
    if (error instanceof Error && /certificate|PEM|asn1|decode/i.test(error.message)) {
      throw unauthorized(`renewal.certificateChain does not parse: ${error.message}`, error);
    }
    throw error;
  }
}

/** An SVID carries one identity, the credential's; a CSR that asks for anything else is refused. */
function checkRequestedIdentity(csr: CertificationRequest, spiffeId: SpiffeId): void {
  if (csr.subject.length > 2) {
    throw new HttpError(
      400,
      'bad-request',
      "csr: the subject must be empty (an SVID's identity is its URI SAN)",
    );
  }
  if (csr.otherAttributes.length > 0) {
    throw new HttpError(400, 'bad-request', `csr: unsupported attributes ${csr.otherAttributes.join(', ')}`);
  }
  const names = csr.subjectAltNames;
  if (names !== undefined) {
    const extra = names.dnsNames.length + names.ipAddresses.length + names.otherNames;
    if (names.uris.length > 1 || extra > 0 || (names.uris.length === 1 && names.uris[0] !== spiffeId.uri)) {
      const asked = [...names.uris, ...names.dnsNames, ...names.ipAddresses].join(', ');
      throw new HttpError(
        403,
        'forbidden-identity',
        `the credential is for ${spiffeId.uri}; the CSR asks for ${asked || 'other names'}`,
      );
    }
  }
  if (csr.basicConstraints?.isCa === true) {
    throw new HttpError(403, 'forbidden-identity', 'csr: an SVID is never a CA');
  }
  const key = csr.publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const isAccepted =
    (key.asymmetricKeyType === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')) ||
    (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048);
  if (!isAccepted) {
    throw new HttpError(
      400,
      'bad-request',
      'csr: the key must be ECDSA P-256 (or P-384, or RSA of 2048 bits or more)',
    );
  }
}

function unauthorized(message: string, cause?: unknown): HttpError {
  return new HttpError(401, 'unauthorized', message, {
    headers: { 'www-authenticate': 'Bearer realm="weft-ca"' },
    ...(cause === undefined ? {} : { cause }),
  });
}
