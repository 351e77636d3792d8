/**
 * RequestAuthentication refusing tokens (bad-inputs F1–F5, F8): every refusal is a 401 with a
 * stable code and a reason, and never a crash.
 */
import { exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticationResult } from '../src/index.ts';
import {
  type Authentication,
  authenticate,
  authenticatorFor,
  bearer,
  ISSUER,
  JwksServer,
  jwks,
  NOW_S,
  requestAuthentication,
  type SigningKey,
  sign,
  signingKey,
  tokenRequest,
} from './jwt-fixtures.ts';

let rsa: SigningKey;
let server: JwksServer;

beforeAll(async () => {
  rsa = await signingKey('RS256');
  server = await new JwksServer().start();
  server.document = jwks(rsa);
});

afterAll(async () => {
  await server.close();
});

const rule = (extra: object = {}) =>
  requestAuthentication('jwt', { jwtRules: [{ issuer: ISSUER, jwksUri: server.uri, ...extra }] });
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectRefused(result: AuthenticationResult, code: string): void {
  expect(result).toMatchObject({ outcome: 'rejected', code, response: { status: 401 } });
  if (result.outcome === 'rejected') {
    expect(result.response.headers).toEqual([
      ['www-authenticate', `Bearer error="invalid_token", error_description="${code}"`],
    ]);
    expect(result.reason.length).toBeGreaterThan(0);
  }
}

async function refuse(
  token: string,
  code: string,
  authentication: Authentication = authenticatorFor([rule()]),
) {
  expectRefused(await authenticate(authentication, bearer(token)), code);
}

describe('JWT refused: algorithms (bad-inputs F1)', () => {
  it('refuses alg "none"', async () => {
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ iss: ISSUER, sub: 'alice', exp: NOW_S + 60 })}.`;
    await refuse(token, 'algorithm-not-allowed');
  });

  it("refuses HS256 signed with the issuer's public key as the secret (algorithm confusion)", async () => {
    const publicKeyPem = await exportSPKI(rsa.publicKey);
    const token = await new SignJWT({ iss: ISSUER, sub: 'admin', exp: NOW_S + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .sign(new TextEncoder().encode(publicKeyPem));
    await refuse(token, 'algorithm-not-allowed');
  });

  it('refuses a token whose alg does not fit the key it names', async () => {
    const ec = await signingKey('ES256', rsa.kid);
    await refuse(await sign(ec), 'unknown-key');
  });
});

describe('JWT refused: time (bad-inputs F2)', () => {
  it('refuses an expired token, allowing 5 seconds of clock skew', async () => {
    await refuse(await sign(rsa, { exp: NOW_S - 6 }), 'expired');
    const withinSkew = await authenticate(
      authenticatorFor([rule()]),
      bearer(await sign(rsa, { exp: NOW_S - 4 })),
    );
    expect(withinSkew.outcome).toBe('authenticated');
  });

  it('refuses a token once the (fake) clock passes its exp', async () => {
    const authentication = authenticatorFor([rule()]);
    const token = await sign(rsa, { exp: NOW_S + 10 });
    expect((await authenticate(authentication, bearer(token))).outcome).toBe('authenticated');
    authentication.clock.advance(16_000);
    expectRefused(await authenticate(authentication, bearer(token)), 'expired');
  });

  it('refuses a token that is not valid yet (nbf)', async () => {
    await refuse(await sign(rsa, { nbf: NOW_S + 60 }), 'not-yet-valid');
  });

  it('takes a wider tolerance when configured', async () => {
    const lenient = authenticatorFor([rule()], { clockToleranceSeconds: 60 });
    expect((await authenticate(lenient, bearer(await sign(rsa, { exp: NOW_S - 30 })))).outcome).toBe(
      'authenticated',
    );
  });
});

describe('JWT refused: issuer and audience (bad-inputs F3, F4)', () => {
  it('refuses a token of an issuer no rule names, never passing it as anonymous', async () => {
    await refuse(await sign(rsa, { iss: 'https://evil.example.com' }), 'issuer-not-configured');
  });

  it('refuses a token whose issuer is configured only for another place', async () => {
    const authentication = authenticatorFor([
      rule({ fromHeaders: [{ name: 'x-jwt' }] }),
      requestAuthentication('other', {
        jwtRules: [{ issuer: 'https://other.example.com', jwksUri: server.uri }],
      }),
    ]);
    const result = await authenticate(
      authentication,
      tokenRequest({ 'x-jwt': await sign(rsa, { iss: 'https://other.example.com' }) }),
    );
    expectRefused(result, 'issuer-not-configured');
  });

  it('refuses a wrong or missing aud when the rule lists audiences', async () => {
    const authentication = authenticatorFor([rule({ audiences: ['orders'] })]);
    await refuse(await sign(rsa, { aud: 'shipping' }), 'audience-not-allowed', authentication);
    await refuse(await sign(rsa), 'audience-not-allowed', authentication);
  });

  it('refuses a token without exp when expiration is required; Istio accepts it by default', async () => {
    const noExp = await new SignJWT({ iss: ISSUER, sub: 'alice' })
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
      .sign(rsa.privateKey);
    await refuse(noExp, 'missing-claim', authenticatorFor([rule()], { requireExpiration: true }));
    expect((await authenticate(authenticatorFor([rule()]), bearer(noExp))).outcome).toBe('authenticated');
  });
});

describe('JWT refused: signature and keys', () => {
  it('refuses a token signed by a key the issuer does not have', async () => {
    await refuse(await sign(await signingKey('RS256', 'stranger')), 'unknown-key');
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await sign(rsa)).split('.');
    const forged = `${header}.${base64url({ iss: ISSUER, sub: 'admin', exp: NOW_S + 60 })}.${signature}`;
    await refuse(forged, 'bad-signature');
  });
});

describe('JWT refused: malformed and oversized tokens (bad-inputs F5, F8)', () => {
  it.each(['abc', 'a.b', 'a.b.c', '!!!.@@@.###', `${base64url({ alg: 'RS256' })}.not-json.sig`, '...'])(
    'refuses %j as malformed',
    async (token) => {
      await refuse(token, 'malformed');
    },
  );

  it('refuses a token without iss as malformed', async () => {
    await refuse(await sign(rsa, { iss: undefined }), 'malformed');
  });

  it('refuses an encrypted token (JWE) without trying to decrypt it', async () => {
    await refuse(
      `${base64url({ alg: 'PBES2-HS256+A128KW', enc: 'A128GCM', p2c: 1e9 })}.a.b.c.d`,
      'jwe-not-accepted',
    );
  });

  it('refuses a token longer than the cap before parsing it', async () => {
    await refuse(await sign(rsa, { padding: 'x'.repeat(20_000) }), 'too-large');
    await refuse(await sign(rsa), 'too-large', authenticatorFor([rule()], { maxTokenLength: 100 }));
  });

  it('survives a deeply nested payload', async () => {
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const token = `${base64url({ alg: 'RS256', kid: rsa.kid })}.${Buffer.from(deep).toString('base64url')}.c2ln`;
    const result = await authenticate(
      authenticatorFor([rule()], { maxTokenLength: 1_000_000 }),
      bearer(token),
    );
    expect(result.outcome).toBe('rejected');
  });
});

describe('JWT refused: several tokens', () => {
  it('refuses tokens in two places, even if both are valid', async () => {
    const token = await sign(rsa);
    expectRefused(
      await authenticate(
        authenticatorFor([rule()]),
        tokenRequest({ authorization: `Bearer ${token}` }, `?access_token=${token}`),
      ),
      'multiple-tokens',
    );
  });

  it('refuses a repeated query parameter or cookie', async () => {
    const token = await sign(rsa);
    expectRefused(
      await authenticate(
        authenticatorFor([rule()]),
        tokenRequest({}, `?access_token=${token}&access_token=${token}`),
      ),
      'multiple-tokens',
    );
    const cookies = authenticatorFor([rule({ fromCookies: ['session'] })]);
    expectRefused(
      await authenticate(cookies, tokenRequest({ cookie: `session=${token}; session=${token}` })),
      'multiple-tokens',
    );
  });

  it('refuses two Authorization headers joined into one value', async () => {
    const token = await sign(rsa);
    const result = await authenticate(
      authenticatorFor([rule()]),
      tokenRequest({ authorization: `Bearer ${token},Bearer ${token}` }),
    );
    expect(result.outcome).toBe('rejected');
  });
});
