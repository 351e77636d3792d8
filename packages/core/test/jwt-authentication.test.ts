/**
 * RequestAuthentication with valid tokens: where tokens are found, what authorization learns from
 * them, and how the request is changed (token stripped or forwarded, payload and claims written to
 * headers). Keys are made with jose and served by a real JWKS endpoint on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationEngine, compile } from '../src/index.ts';
import { authorizationPolicy, HTTPBIN, load, request } from './authz-fixtures.ts';
import {
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
let ec: SigningKey;
let ed: SigningKey;
let server: JwksServer;

beforeAll(async () => {
  [rsa, ec, ed] = await Promise.all([signingKey('RS256'), signingKey('ES256'), signingKey('EdDSA')]);
  server = await new JwksServer().start();
  server.document = jwks(rsa, ec, ed);
});

afterAll(async () => {
  await server.close();
});

const rule = (extra: object = {}) =>
  requestAuthentication('jwt', { jwtRules: [{ issuer: ISSUER, jwksUri: server.uri, ...extra }] });

describe('JWT: tokens that verify', () => {
  it.each(['RS256', 'ES256', 'EdDSA'])(
    'accepts a %s token from Authorization: Bearer and reports who it is',
    async (alg) => {
      const key = alg === 'RS256' ? rsa : alg === 'ES256' ? ec : ed;
      const token = await sign(key, { aud: ['orders', 'billing'], azp: 'web-app', groups: ['dev'] });
      const result = await authenticate(authenticatorFor([rule()]), bearer(token));
      expect(result).toMatchObject({
        outcome: 'authenticated',
        issuer: ISSUER,
        auth: {
          principal: `${ISSUER}/alice`,
          audiences: ['orders', 'billing'],
          presenter: 'web-app',
          claims: { groups: ['dev'] },
        },
      });
    },
  );

  it("accepts a token whose aud holds one of the rule's audiences", async () => {
    const token = await sign(rsa, { aud: 'orders' });
    const result = await authenticate(
      authenticatorFor([rule({ audiences: ['billing', 'orders'] })]),
      bearer(token),
    );
    expect(result.outcome).toBe('authenticated');
  });

  it('passes a request without token as anonymous: authorization decides', async () => {
    expect(await authenticate(authenticatorFor([rule()]), tokenRequest())).toEqual({
      outcome: 'anonymous',
      headers: { remove: [], set: [] },
    });
  });

  it('reads the default access_token query parameter', async () => {
    const token = await sign(rsa);
    expect(
      (await authenticate(authenticatorFor([rule()]), tokenRequest({}, `?x=1&access_token=${token}`)))
        .outcome,
    ).toBe('authenticated');
  });

  it('reads fromHeaders with a prefix, fromParams and fromCookies instead of the defaults', async () => {
    const token = await sign(rsa);
    const authentication = authenticatorFor([
      rule({
        fromHeaders: [{ name: 'X-Jwt-Assertion', prefix: 'Token ' }],
        fromParams: ['jwt'],
        fromCookies: ['session'],
      }),
    ]);
    expect(
      (await authenticate(authentication, tokenRequest({ 'x-jwt-assertion': `Token ${token}` }))).outcome,
    ).toBe('authenticated');
    expect((await authenticate(authentication, tokenRequest({}, `?jwt=${token}`))).outcome).toBe(
      'authenticated',
    );
    expect(
      (await authenticate(authentication, tokenRequest({ cookie: `theme=dark; session=${token}` }))).outcome,
    ).toBe('authenticated');
    // The defaults are no longer read: a Bearer token there is not a token for this rule.
    expect((await authenticate(authentication, bearer(token))).outcome).toBe('anonymous');
    // A header without the expected prefix holds no token.
    expect((await authenticate(authentication, tokenRequest({ 'x-jwt-assertion': token }))).outcome).toBe(
      'anonymous',
    );
  });

  it('compares the Bearer scheme without case', async () => {
    const token = await sign(rsa);
    const result = await authenticate(
      authenticatorFor([rule()]),
      tokenRequest({ authorization: `bearer ${token}` }),
    );
    expect(result.outcome).toBe('authenticated');
  });

  it('verifies with inline jwks, without any fetch', async () => {
    const requestsBefore = server.requests;
    const token = await sign(ec);
    const inline = requestAuthentication('inline', {
      jwtRules: [{ issuer: ISSUER, jwks: JSON.stringify(jwks(ec)) }],
    });
    expect((await authenticate(authenticatorFor([inline]), bearer(token))).outcome).toBe('authenticated');
    expect(server.requests).toBe(requestsBefore);
  });

  it("picks the rule by the token's issuer when several rules read one place", async () => {
    const other = await signingKey('ES256', 'other');
    const policies = [
      rule(),
      requestAuthentication('other', {
        jwtRules: [{ issuer: 'https://other.example.com', jwks: JSON.stringify(jwks(other)) }],
      }),
    ];
    const token = await sign(other, { iss: 'https://other.example.com', sub: 'bob' });
    expect(await authenticate(authenticatorFor(policies), bearer(token))).toMatchObject({
      outcome: 'authenticated',
      auth: { principal: 'https://other.example.com/bob' },
    });
  });
});

describe('JWT: changes to the request', () => {
  it('removes the token header unless forwardOriginalToken is set', async () => {
    const token = await sign(rsa);
    const stripped = await authenticate(authenticatorFor([rule()]), bearer(token));
    expect(stripped.outcome === 'authenticated' && stripped.headers.remove).toEqual(['authorization']);
    const forwarded = await authenticate(
      authenticatorFor([rule({ forwardOriginalToken: true })]),
      bearer(token),
    );
    expect(forwarded.outcome === 'authenticated' && forwarded.headers.remove).toEqual([]);
  });

  it('writes the payload, base64url, to outputPayloadToHeader', async () => {
    const token = await sign(rsa, { role: 'admin' });
    const result = await authenticate(
      authenticatorFor([rule({ outputPayloadToHeader: 'X-Jwt-Payload' })]),
      bearer(token),
    );
    if (result.outcome !== 'authenticated') expect.fail(`expected authenticated, got ${result.outcome}`);
    const [name, value] = result.headers.set[0] ?? [];
    expect(name).toBe('x-jwt-payload');
    expect(JSON.parse(Buffer.from(value ?? '', 'base64url').toString('utf8'))).toMatchObject({
      role: 'admin',
      sub: 'alice',
    });
  });

  it('copies string, number, boolean and nested claims to outputClaimToHeaders; nothing else', async () => {
    const token = await sign(rsa, {
      group: 'dev',
      level: 3,
      admin: false,
      org: { team: 'payments' },
      list: ['a'],
      sneaky: 'x\r\nset-cookie: y',
    });
    const mappings = [
      { header: 'x-group', claim: 'group' },
      { header: 'x-level', claim: 'level' },
      { header: 'x-admin', claim: 'admin' },
      { header: 'x-team', claim: 'org.team' },
      { header: 'x-list', claim: 'list' },
      { header: 'x-sneaky', claim: 'sneaky' },
      { header: 'x-missing', claim: 'nope' },
    ];
    const result = await authenticate(
      authenticatorFor([rule({ outputClaimToHeaders: mappings })]),
      bearer(token),
    );
    if (result.outcome !== 'authenticated') expect.fail(`expected authenticated, got ${result.outcome}`);
    expect(result.headers.set).toEqual([
      ['x-group', 'dev'],
      ['x-level', '3'],
      ['x-admin', 'false'],
      ['x-team', 'payments'],
    ]);
  });

  it('removes output headers a caller sent itself, with or without a token', async () => {
    const authentication = authenticatorFor([
      rule({
        outputPayloadToHeader: 'x-jwt-payload',
        outputClaimToHeaders: [{ header: 'x-user', claim: 'sub' }],
      }),
    ]);
    const spoofed = await authenticate(
      authentication,
      tokenRequest({ 'x-user': 'admin', 'x-jwt-payload': 'e30' }),
    );
    expect(spoofed).toEqual({
      outcome: 'anonymous',
      headers: { remove: ['x-jwt-payload', 'x-user'], set: [] },
    });
  });
});

describe('JWT: feeding authorization', () => {
  it('requestPrincipals and claims conditions see the verified token', async () => {
    const snapshot = compile(
      load(
        rule(),
        authorizationPolicy('require-jwt', {
          rules: [
            {
              from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }],
              when: [{ key: 'request.auth.claims[scope]', values: ['orders.write'] }],
            },
          ],
        }),
      ),
    );
    const inbound = snapshot.inboundFor(HTTPBIN);
    const engine = new AuthorizationEngine(inbound.authorization);
    const authentication = authenticatorFor([rule()]);
    const decideFor = async (token: string | undefined) => {
      const result = await authenticate(authentication, token === undefined ? tokenRequest() : bearer(token));
      if (result.outcome === 'rejected') return 'rejected';
      const auth = result.outcome === 'authenticated' ? result.auth : undefined;
      const decision = await engine.authorize(request(auth === undefined ? {} : { auth }));
      return decision.isAllowed ? 'allowed' : 'denied';
    };
    expect(await decideFor(await sign(rsa, { scope: 'orders.read orders.write' }))).toBe('allowed');
    expect(await decideFor(await sign(rsa, { scope: 'orders.read' }))).toBe('denied');
    expect(await decideFor(undefined)).toBe('denied');
    expect(await decideFor(await sign(rsa, { exp: NOW_S - 60 }))).toBe('rejected');
  });
});
