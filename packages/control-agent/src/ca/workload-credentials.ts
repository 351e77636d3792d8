import { verify, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  bodySha256,
  JoinTokenError,
  PeerVerificationError,
  readSvidProof,
  type SpiffeId,
  SVID_PROOF_MAX_SKEW_MS,
  SVID_PROOF_SCHEME,
  svidProofMessage,
  verifySvidChain,
  workloadOf,
} from '@weft/core';
import type { WorkloadCaller, WorkloadCredentialCheck } from '../http/admin-auth.ts';
import { HttpError } from '../http/http-error.ts';
import { readTextBody } from '../http/read-body.ts';
import type { CertificateAuthority } from './certificate-authority.ts';
import type { JoinTokens } from './join-tokens.ts';
import { isIdentityRevoked } from './revocations.ts';

export interface WorkloadCredentialsDeps {
  readonly ca: CertificateAuthority;
  readonly tokens: JoinTokens;
  readonly wallClock: () => number;
  /** How far the CA back-dates an SVID's notBefore: its issuance time is notBefore plus this. */
  readonly backdateMs: number;
  /** Cap on the body an SVID proof makes the agent read before the signature is checked. */
  readonly maxRequestBytes: number;
}

/**
 * A workload's own credentials for its registration calls (PROTOCOL.md §4.2), checked the way a
 * certificate request's are (csr-admission.ts): a join token, or a current SVID of this CA —
 * verified against the trust bundle now, its identity not revoked since it was issued — whose key
 * signed this very request (method, path, a timestamp within ±5 min, the body's SHA-256). Each
 * gives the workload identity the caller is held to; any failure is a 401 saying why.
 */
export class WorkloadCredentials implements WorkloadCredentialCheck {
  readonly #deps: WorkloadCredentialsDeps;

  constructor(deps: WorkloadCredentialsDeps) {
    this.#deps = deps;
  }

  async fromJoinToken(token: string): Promise<WorkloadCaller> {
    let spiffeId: SpiffeId;
    try {
      spiffeId = (await this.#deps.tokens.verify(token)).spiffeId;
    } catch (error) {
      if (error instanceof JoinTokenError) {
        throw unauthorized(
          `the bearer token is neither the admin token nor a valid join token: ${error.message}`,
          error,
        );
      }
      throw error;
    }
    return caller(spiffeId, 'join-token', undefined);
  }

  /**
   * Shape, timestamp, chain and revocation first, from the header alone; only then the body is
   * read (at most maxRequestBytes), since the signature covers its hash.
   */
  async fromSvidProof(
    credentials: string,
    request: IncomingMessage,
    pathname: string,
  ): Promise<WorkloadCaller> {
    const read = readSvidProof(credentials);
    if (!read.ok) throw unauthorized(`${SVID_PROOF_SCHEME}: ${read.reason}`);
    const { proof } = read;
    const nowMs = this.#deps.wallClock();
    if (Math.abs(nowMs - proof.timestampMs) > SVID_PROOF_MAX_SKEW_MS) {
      throw unauthorized(
        `${SVID_PROOF_SCHEME}: the proof's timestamp ${new Date(proof.timestampMs).toISOString()} is more than ` +
          `${SVID_PROOF_MAX_SKEW_MS / 60_000} minutes from the agent's clock (${new Date(nowMs).toISOString()})`,
      );
    }
    const svid = await this.#currentSvid(proof.certificates, nowMs);
    const body = await readTextBody(request, this.#deps.maxRequestBytes);
    const message = svidProofMessage({
      method: request.method ?? '',
      path: pathname,
      timestampMs: proof.timestampMs,
      // The text re-encoded is the bytes received (invalid UTF-8 was refused), bar a leading BOM,
      // which the decoder drops: such a body fails the check, it is never taken for another.
      bodySha256: bodySha256(Buffer.from(body, 'utf8')),
    });
    if (!verify('sha256', message, svid.leaf.publicKey, proof.signature)) {
      throw unauthorized(
        `${SVID_PROOF_SCHEME}: the signature is not the SVID key's over this request (method, path, timestamp and body)`,
      );
    }
    return caller(svid.spiffeId, 'svid', body);
  }

  /** The chain as a current SVID of this CA: it verifies against the bundle now, and is not revoked. */
  async #currentSvid(
    certificates: readonly Buffer[],
    nowMs: number,
  ): Promise<{ readonly spiffeId: SpiffeId; readonly leaf: X509Certificate }> {
    const bundle = this.#deps.ca.trustBundle();
    if (bundle === undefined)
      throw new HttpError(503, 'ca-unavailable', 'the CA has no root that may sign now');
    let chain: X509Certificate[];
    let verified: ReturnType<typeof verifySvidChain>;
    try {
      chain = certificates.map((der) => new X509Certificate(der));
      const roots = bundle.roots.map((pem) => new X509Certificate(pem));
      verified = verifySvidChain(chain, { trustDomain: bundle.trustDomain, roots, nowMs });
    } catch (error) {
      if (error instanceof PeerVerificationError) {
        throw unauthorized(
          `${SVID_PROOF_SCHEME}: the chain is not a current SVID of this CA: ${error.message}`,
          error,
        );
      }
      if (error instanceof Error && /certificate|asn1|decode|header too long/i.test(error.message)) {
        throw unauthorized(
          `${SVID_PROOF_SCHEME}: a certificate of the chain does not parse: ${error.message}`,
          error,
        );
      }
      throw error;
    }
    const revocations = await this.#deps.tokens.revocations();
    const issuedAtMs = verified.notBefore.getTime() + this.#deps.backdateMs;
    if (isIdentityRevoked(revocations, verified.spiffeId.uri, issuedAtMs)) {
      throw unauthorized(
        `${SVID_PROOF_SCHEME}: ${verified.spiffeId.uri} was revoked after this certificate was issued: join again with a new token`,
      );
    }
    return { spiffeId: verified.spiffeId, leaf: chain[0] as X509Certificate };
  }
}

function caller(
  spiffeId: SpiffeId,
  credential: WorkloadCaller['credential'],
  body: string | undefined,
): WorkloadCaller {
  const workload = workloadOf(spiffeId);
  if (workload === undefined) {
    throw unauthorized(
      `${spiffeId.uri} is not a workload identity (spiffe://<trust domain>/ns/<ns>/sa/<sa>)`,
    );
  }
  return { kind: 'workload', spiffeId, ...workload, credential, body };
}

function unauthorized(message: string, cause?: unknown): HttpError {
  return new HttpError(401, 'unauthorized', message, {
    headers: { 'www-authenticate': `Bearer realm="weft-agent", ${SVID_PROOF_SCHEME} realm="weft-agent"` },
    ...(cause === undefined ? {} : { cause }),
  });
}
