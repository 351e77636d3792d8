/**
 * RequestAuthentication and AuthorizationPolicy on a Weft server: an invalid token is refused
 * with 401 and the reason, a request without a token passes authentication and is caught by an
 * ALLOW that requires `requestPrincipals`, a valid token lets the request through with the claim
 * headers the rule writes (and no forged ones); keys from a jwksUri served on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInboundHarness, type InboundHarness, type Outcome } from './support/inbound-harness.ts';

const ISSUER = 'https://issuer.example.com';

type Key = Awaited<ReturnType<typeof generateKeyPair>>;
let key: Key;
let otherKey: Key;
let jwk: JWK;

beforeAll(async () => {
  key = await generateKeyPair('ES256');
  otherKey = await generateKeyPair('ES256');
  jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256' };
});

/** A token of ISSUER for `alice`, expiring in 10 minutes unless `expiresAt` (epoch seconds) says otherwise. */
function sign(signer: Key = key, expiresAt: string | number = '10m'): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .sign(signer.privateKey);
}

function requestAuthentication(keys: string): string {
  return `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: default
spec:
  jwtRules:
  - issuer: ${ISSUER}
    ${keys}
    outputClaimToHeaders:
    - header: x-jwt-sub
      claim: sub
`;
}

const REQUIRE_TOKEN = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: default
spec:
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
`;

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Echoes what the application got of the token: the claim header and whether the token came along. */
function echo(request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      sub: request.headers['x-jwt-sub'] ?? null,
      authorization: request.headers.authorization ?? null,
    }),
  );
}

let harness: InboundHarness;
let port: number;

async function serve(yaml: string): Promise<void> {
  const mesh = harness.mesh('orders', { yaml });
  ({ port } = await harness.serve(mesh, echo));
}

function get(headers: Record<string, string> = {}, path = '/orders'): Promise<Outcome> {
  return harness.plain().get(port, path, headers);
}

beforeEach(() => {
  harness = createInboundHarness();
});
afterEach(() => harness.close());

describe('with inline keys', () => {
  beforeEach(() =>
    serve(`${requestAuthentication(`jwks: '${JSON.stringify({ keys: [jwk] })}'`)}---\n${REQUIRE_TOKEN}`),
  );

  const refused: readonly (readonly [string, () => Promise<string>, string])[] = [
    ['signed by another key', () => sign(otherKey), 'bad-signature'],
    [
      'of another issuer',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setIssuer('https://evil.example.com')
          .sign(key.privateKey),
      'issuer-not-configured',
    ],
    ['expired', () => sign(key, Math.floor(Date.now() / 1000) - 3600), 'expired'],
    [
      'with alg none',
      async () => `${base64url({ alg: 'none' })}.${base64url({ iss: ISSUER, sub: 'alice' })}.`,
      'algorithm-not-allowed',
    ],
    ['that is not a JWT', async () => 'not.a.token', 'malformed'],
  ];

  it.each(refused)('a token %s is refused with 401 and the reason', async (_case, token, code) => {
    const outcome = await get({ authorization: `Bearer ${await token()}` });
    expect(outcome).toMatchObject({ kind: 'response', status: 401 });
    if (outcome.kind !== 'response') return;
    expect(outcome.headers['www-authenticate']).toContain(`error_description="${code}"`);
    expect(outcome.headers['x-weft-error-code']).toBe('WEFT_ERR_UNAUTHENTICATED');
    expect(outcome.body).not.toBe('');
  });

  it('a request without a token passes authentication and is denied by the requestPrincipals policy', async () => {
    expect(await get()).toMatchObject({ kind: 'response', status: 403, body: 'RBAC: access denied' });
  });

  it('a valid token passes both; the application gets the claim header and not the token', async () => {
    const outcome = await get({ authorization: `Bearer ${await sign()}` });
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    if (outcome.kind === 'response')
      expect(JSON.parse(outcome.body)).toEqual({ sub: 'alice', authorization: null });
  });

  it('a claim header sent by the caller never reaches the application', async () => {
    const outcome = await get({ authorization: `Bearer ${await sign()}`, 'x-jwt-sub': 'root' });
    if (outcome.kind === 'response') expect(JSON.parse(outcome.body).sub).toBe('alice');
    expect(outcome.kind).toBe('response');
  });
});

describe('with keys from a jwksUri', () => {
  const keyServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  let keysUrl: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    keysUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/jwks`;
  });
  afterAll(async () => {
    keyServer.closeAllConnections();
    await new Promise((resolve) => keyServer.close(resolve));
  });

  it('verifies tokens after fetching the keys (the asynchronous path) and refuses forged ones', async () => {
    await serve(`${requestAuthentication(`jwksUri: ${keysUrl}`)}---\n${REQUIRE_TOKEN}`);
    const good = await get({ authorization: `Bearer ${await sign()}` });
    expect(good).toMatchObject({ kind: 'response', status: 200 });
    const forged = await get({ authorization: `Bearer ${await sign(otherKey)}` });
    expect(forged).toMatchObject({ kind: 'response', status: 401 });
  });
});
