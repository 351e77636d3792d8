import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** An ES256 signing key of a test issuer, and its public JWK set for a RequestAuthentication. */
export interface TestIssuer {
  readonly issuer: string;
  /** The `jwks` a jwtRule inlines. */
  readonly jwks: string;
  /** A compact JWS of `claims` (iss and a one-hour exp added unless given). */
  token(claims: Record<string, unknown>): string;
}

export function createTestIssuer(issuer: string, kid = 'test-key'): TestIssuer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  return {
    issuer,
    jwks: JSON.stringify({ keys: [jwk] }),
    token: (claims) => signEs256(privateKey, kid, { iss: issuer, exp: nowSeconds() + 3600, ...claims }),
  };
}

function signEs256(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const header = base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }));
  const payload = base64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
