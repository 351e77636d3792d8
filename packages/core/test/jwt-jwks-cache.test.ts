/**
 * Remote key sets (bad-inputs F6, F7): fetched on first use with a timeout, cached and refreshed,
 * refetched on an unknown `kid` at most once per cooldown, and refused fast while unavailable.
 * A real JWKS endpoint on 127.0.0.1; every delay is driven by a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  authenticate,
  authenticatorFor,
  bearer,
  ISSUER,
  JwksServer,
  jwks,
  requestAuthentication,
  type SigningKey,
  sign,
  signingKey,
} from './jwt-fixtures.ts';

let server: JwksServer;
let key: SigningKey;

beforeEach(async () => {
  key = await signingKey('ES256', 'k1');
  server = await new JwksServer().start();
  server.document = jwks(key);
});

afterEach(async () => {
  await server.close();
});

const rule = (uri = server.uri) =>
  requestAuthentication('jwt', { jwtRules: [{ issuer: ISSUER, jwksUri: uri, timeout: '2s' }] });

describe('JWKS: fetching', () => {
  it('does not fetch until a token needs the keys, then fetches once for concurrent requests', async () => {
    const authentication = authenticatorFor([rule()]);
    expect(server.requests).toBe(0);
    const token = await sign(key);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => authenticate(authentication, bearer(token))),
    );
    expect(results.map((result) => result.outcome)).toEqual(Array(5).fill('authenticated'));
    expect(server.requests).toBe(1);
  });

  it('prefetchKeys starts the fetch ahead of the first token', async () => {
    const { authenticator } = authenticatorFor([rule()]);
    const arrived = server.nextRequest();
    authenticator.prefetchKeys();
    await arrived;
    expect(server.requests).toBe(1);
  });

  it('refuses tokens when the fetch times out, then fails fast until the retry delay has passed', async () => {
    server.behaviour = 'hang';
    const authentication = authenticatorFor([rule()]);
    const token = await sign(key);
    const arrived = server.nextRequest();
    const pending = authenticate(authentication, bearer(token));
    await arrived;
    authentication.clock.advance(2_000);
    const result = await pending;
    expect(result).toMatchObject({
      outcome: 'rejected',
      code: 'jwks-unavailable',
      response: { status: 401 },
    });
    expect(result.outcome === 'rejected' && result.reason).toContain('longer than 2000ms');
    // Within the retry delay: refused at once, no new fetch.
    expect(await authenticate(authentication, bearer(token))).toMatchObject({ code: 'jwks-unavailable' });
    expect(server.requests).toBe(1);
    // After it: fetched again, and this time the endpoint answers.
    server.behaviour = 'serve';
    authentication.clock.advance(5_000);
    expect((await authenticate(authentication, bearer(token))).outcome).toBe('authenticated');
    expect(server.requests).toBe(2);
  });

  it.each([
    ['answers 503', 'fail', 'answered 503'],
    ['answers with broken JSON', 'garbage', 'not JSON'],
  ] as const)('refuses tokens when the endpoint %s', async (_, behaviour, reason) => {
    server.behaviour = behaviour;
    const result = await authenticate(authenticatorFor([rule()]), bearer(await sign(key)));
    expect(result).toMatchObject({ outcome: 'rejected', code: 'jwks-unavailable' });
    expect(result.outcome === 'rejected' && result.reason).toContain(reason);
  });

  it('refuses tokens when the document has no key list or the endpoint is down', async () => {
    server.document = { notKeys: [] };
    expect(await authenticate(authenticatorFor([rule()]), bearer(await sign(key)))).toMatchObject({
      code: 'jwks-unavailable',
    });
    const closedUri = server.uri;
    await server.close();
    server = await new JwksServer().start();
    expect(await authenticate(authenticatorFor([rule(closedUri)]), bearer(await sign(key)))).toMatchObject({
      code: 'jwks-unavailable',
    });
  });

  it('a request without a token never waits for keys', async () => {
    server.behaviour = 'hang';
    const authentication = authenticatorFor([rule()]);
    expect(authentication.authenticator.authenticate({ header: () => undefined })).toEqual({
      outcome: 'anonymous',
      headers: { remove: [], set: [] },
    });
    expect(server.requests).toBe(0);
  });
});

describe('JWKS: refreshing', () => {
  it('refetches after the refresh interval in the background, serving the cached keys meanwhile', async () => {
    const authentication = authenticatorFor([rule()], { cache: { refreshIntervalMs: 60_000 } });
    const token = await sign(key, { exp: undefined });
    expect((await authenticate(authentication, bearer(token))).outcome).toBe('authenticated');
    authentication.clock.advance(60_000);
    server.behaviour = 'hang';
    const arrived = server.nextRequest();
    expect((await authenticate(authentication, bearer(token))).outcome).toBe('authenticated');
    await arrived;
    expect(server.requests).toBe(2);
  });

  it('keeps the old keys when a refresh fails', async () => {
    const authentication = authenticatorFor([rule()], { cache: { refreshIntervalMs: 60_000 } });
    const token = await sign(key, { exp: undefined });
    await authenticate(authentication, bearer(token));
    server.behaviour = 'fail';
    authentication.clock.advance(60_000);
    const arrived = server.nextRequest();
    await authenticate(authentication, bearer(token));
    await arrived;
    expect((await authenticate(authentication, bearer(token))).outcome).toBe('authenticated');
  });

  it('picks up a rotated key on an unknown kid, at most once per cooldown (bad-inputs F7)', async () => {
    const authentication = authenticatorFor([rule()]);
    expect((await authenticate(authentication, bearer(await sign(key)))).outcome).toBe('authenticated');
    const rotated = await signingKey('ES256', 'k2');
    server.document = jwks(key, rotated);
    const newToken = await sign(rotated);
    // Right after the first fetch the cooldown holds: refused, no fetch.
    expect(await authenticate(authentication, bearer(newToken))).toMatchObject({ code: 'unknown-key' });
    expect(server.requests).toBe(1);
    authentication.clock.advance(30_000);
    expect((await authenticate(authentication, bearer(newToken))).outcome).toBe('authenticated');
    expect(server.requests).toBe(2);
  });

  it('a flood of made-up kids causes one fetch per cooldown', async () => {
    const authentication = authenticatorFor([rule()]);
    await authenticate(authentication, bearer(await sign(key)));
    authentication.clock.advance(30_000);
    const strangers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signingKey('ES256', `made-up-${i}`)),
    );
    for (const stranger of strangers) {
      expect(await authenticate(authentication, bearer(await sign(stranger)))).toMatchObject({
        code: 'unknown-key',
      });
    }
    expect(server.requests).toBe(2);
  });

  it('bounds the number of key sets it keeps (least recently used go)', async () => {
    const authentication = authenticatorFor(
      [
        requestAuthentication('a', {
          jwtRules: [{ issuer: 'https://a.example.com', jwksUri: `${server.uri}?a` }],
        }),
        requestAuthentication('b', {
          jwtRules: [{ issuer: 'https://b.example.com', jwksUri: `${server.uri}?b` }],
        }),
      ],
      { cache: { maxKeySets: 1 } },
    );
    const a = await sign(key, { iss: 'https://a.example.com' });
    const b = await sign(key, { iss: 'https://b.example.com' });
    for (const token of [a, a, b, a])
      expect((await authenticate(authentication, bearer(token))).outcome).toBe('authenticated');
    expect(server.requests).toBe(3);
  });
});
