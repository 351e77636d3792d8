import type { KeyObject } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import { parseSpiffeId, type SpiffeId, workloadOf } from './spiffe-id.ts';

/**
 * Join tokens: how a workload proves, once, who it is to the agent's CA (`weft token create`).
 * A JWT (ES256, signed by a key only the agents hold) whose `sub` is the SPIFFE ID it is bound
 * to, with an id (`jti`) it can be revoked by and an expiry. The claim set is shared protocol:
 * the agent signs and verifies it; the workload only reads `sub`, to know which identity to ask
 * for. Nothing here trusts where a request came from (bad-inputs B9).
 */

export const JOIN_TOKEN_ISSUER = 'weft-agent';
export const JOIN_TOKEN_AUDIENCE = 'weft-ca';
/** The JWS `typ`, so that no other JWT the agent's key might ever sign passes as a join token. */
export const JOIN_TOKEN_TYPE = 'weft-join+jwt';
/** Tokens are a few hundred bytes; anything much larger is refused before it is decoded. */
export const MAX_JOIN_TOKEN_BYTES = 4096;

export interface JoinTokenClaims {
  readonly spiffeId: SpiffeId;
  readonly tokenId: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

/** A join token the agent refuses: bad signature, expired, wrong type, not a workload identity… */
export class JoinTokenError extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.unauthenticated, message, options);
    this.name = 'JoinTokenError';
  }
}

export function signJoinToken(key: KeyObject, keyId: string, claims: JoinTokenClaims): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: JOIN_TOKEN_TYPE, kid: keyId })
    .setIssuer(JOIN_TOKEN_ISSUER)
    .setAudience(JOIN_TOKEN_AUDIENCE)
    .setSubject(claims.spiffeId.uri)
    .setJti(claims.tokenId)
    .setIssuedAt(Math.floor(claims.issuedAtMs / 1000))
    .setExpirationTime(Math.floor(claims.expiresAtMs / 1000))
    .sign(key);
}

/**
 * Verifies signature (ES256 only), type, issuer, audience and expiry at `nowMs`, and that `sub`
 * is a workload SPIFFE ID. Revocation is the caller's to check (it needs the store).
 */
export async function verifyJoinToken(
  token: string,
  publicKey: KeyObject,
  nowMs: number,
): Promise<JoinTokenClaims> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_JOIN_TOKEN_BYTES) {
    throw new JoinTokenError(`a join token is a JWT of at most ${MAX_JOIN_TOKEN_BYTES} bytes`);
  }
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(token, publicKey, {
      algorithms: ['ES256'],
      typ: JOIN_TOKEN_TYPE,
      issuer: JOIN_TOKEN_ISSUER,
      audience: JOIN_TOKEN_AUDIENCE,
      requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      currentDate: new Date(nowMs),
      clockTolerance: 0,
    }));
  } catch (error) {
    throw new JoinTokenError(`the join token is not valid: ${describeJoseError(error)}`, { cause: error });
  }
  const spiffeId = workloadIdentityOf(payload.sub);
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 128) {
    throw new JoinTokenError('the join token has no usable jti');
  }
  return {
    spiffeId,
    tokenId: payload.jti,
    issuedAtMs: (payload.iat as number) * 1000,
    expiresAtMs: (payload.exp as number) * 1000,
  };
}

/**
 * The identity a token is for, read without verifying it: a workload uses this to know which
 * SPIFFE ID to put in its CSR. (The agent verifies; a forged token gets the workload nothing.)
 */
export function readJoinTokenIdentity(token: string): SpiffeId {
  if (typeof token !== 'string' || token.length > MAX_JOIN_TOKEN_BYTES) {
    throw new JoinTokenError(`a join token is a JWT of at most ${MAX_JOIN_TOKEN_BYTES} bytes`);
  }
  let subject: unknown;
  try {
    subject = decodeJwt(token).sub;
  } catch (error) {
    throw new JoinTokenError(`the join token is not a JWT: ${describeJoseError(error)}`, { cause: error });
  }
  return workloadIdentityOf(subject);
}

function workloadIdentityOf(subject: unknown): SpiffeId {
  if (typeof subject !== 'string') throw new JoinTokenError('the join token has no sub');
  let spiffeId: SpiffeId;
  try {
    spiffeId = parseSpiffeId(subject);
  } catch (error) {
    throw new JoinTokenError(`the join token's sub is not a SPIFFE ID: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (workloadOf(spiffeId) === undefined) {
    throw new JoinTokenError(`the join token's sub ${subject} is not a workload identity (/ns/<ns>/sa/<sa>)`);
  }
  return spiffeId;
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  return error instanceof Error ? error.message : String(error);
}
