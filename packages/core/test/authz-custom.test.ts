/**
 * CUSTOM AuthorizationPolicies asking an external HTTP authorizer (Istio's `envoyExtAuthzHttp`
 * extension provider), against a real node:http authorizer on 127.0.0.1.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuthzDecision, type ExtensionProvider, HttpExtAuthzClient } from '../src/index.ts';
import { FakeClock } from '../src/testing.ts';
import { authorizationPolicy, engineFor, request, type TestRequest } from './authz-fixtures.ts';

interface SeenCheck {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

let server: Server;
let port: number;
let seen: SeenCheck[];
let arrived: () => void;
let client: HttpExtAuthzClient;
let clock: FakeClock;

/** Decides by the original path (after the /check prefix): allow, deny, crash, redirect, hang. */
function authorizer(): Server {
  return createServer((incoming, response) => {
    seen.push({ method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers });
    arrived();
    const path = (incoming.url ?? '').replace(/^\/check/, '');
    if (path.startsWith('/protected/hang')) return;
    if (path.startsWith('/protected/crash')) {
      response.writeHead(500).end('boom');
    } else if (path.startsWith('/protected/redirect')) {
      response.writeHead(302, { location: 'https://login.example.com/', 'x-other': 'dropped' }).end();
    } else if (incoming.headers['x-ext-authz'] === 'allow') {
      response
        .writeHead(200, {
          'x-user': 'alice',
          'x-ext-authz-check-result': 'allowed',
          'x-internal': 'kept-back',
        })
        .end();
    } else {
      response
        .writeHead(403, {
          'x-ext-authz-check-result': 'denied',
          'www-authenticate': 'Bearer realm="shop"',
          'x-internal': 'kept-back',
        })
        .end('denied by ext authz');
    }
  });
}

beforeEach(async () => {
  seen = [];
  arrived = () => {};
  server = authorizer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  clock = new FakeClock();
  client = new HttpExtAuthzClient({ clock });
});

afterEach(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function provider(overrides: Record<string, unknown> = {}, name = 'ext-authz'): ExtensionProvider {
  return {
    name,
    envoyExtAuthzHttp: {
      service: '127.0.0.1',
      port,
      pathPrefix: '/check',
      timeout: '2s',
      includeRequestHeadersInCheck: ['x-ext-authz', 'x-pre-*'],
      includeAdditionalHeadersInCheck: { 'x-added': 'yes' },
      headersToUpstreamOnAllow: ['x-user', '*-check-result'],
      headersToDownstreamOnDeny: ['x-ext-authz-check-result'],
      ...overrides,
    },
  };
}

const customPolicy = (providerName = 'ext-authz', name = 'ext-authz') =>
  authorizationPolicy(name, {
    action: 'CUSTOM',
    provider: { name: providerName },
    rules: [{ to: [{ operation: { paths: ['/protected/*'] } }] }],
  });

function engine(policies: object[] = [customPolicy()], providers: ExtensionProvider[] = [provider()]) {
  return engineFor(policies, { extensionProviders: providers, externalAuthorizer: client });
}

async function authorize(
  policiesEngine: ReturnType<typeof engine>,
  overrides: TestRequest,
): Promise<AuthzDecision> {
  return await policiesEngine.authorize(request(overrides));
}

describe('CUSTOM: asking the external authorizer', () => {
  it('does not ask for requests its rules do not match, and decides them synchronously', () => {
    const decision = engine().authorize(request({ path: '/public' }));
    expect(decision).not.toBeInstanceOf(Promise);
    expect(decision).toMatchObject({ isAllowed: true, reason: 'no-allow-policies' });
    expect(seen).toEqual([]);
  });

  it('sends method, prefixed path with query, Host, chosen headers and no body', async () => {
    await authorize(engine(), {
      method: 'PUT',
      path: '/protected/orders',
      query: '?id=7',
      headers: {
        'x-ext-authz': 'allow',
        'x-pre-tenant': 't1',
        authorization: 'Bearer secret',
        'x-added': 'from-client',
      },
    });
    expect(seen).toHaveLength(1);
    const [check] = seen;
    expect(check?.method).toBe('PUT');
    expect(check?.url).toBe('/check/protected/orders?id=7');
    expect(check?.headers.host).toBe('httpbin.foo.svc.cluster.local:8000');
    expect(check?.headers['content-length']).toBe('0');
    expect(check?.headers['x-ext-authz']).toBe('allow');
    expect(check?.headers['x-pre-tenant']).toBe('t1');
    expect(check?.headers['x-added']).toBe('yes');
    expect(check?.headers.authorization).toBeUndefined();
  });

  it('allows on 200 and passes on only the headers chosen for upstream', async () => {
    const decision = await authorize(engine(), { path: '/protected/a', headers: { 'x-ext-authz': 'allow' } });
    expect(decision).toMatchObject({ isAllowed: true, reason: 'no-allow-policies', provider: 'ext-authz' });
    expect(decision.upstreamHeaders).toEqual([
      ['x-user', 'alice'],
      ['x-ext-authz-check-result', 'allowed'],
    ]);
    expect(decision.downstreamHeaders).toBeUndefined();
  });

  it("denies with the authorizer's status and body, and the headers chosen for downstream", async () => {
    const decision = await authorize(engine(), { path: '/protected/a' });
    expect(decision).toMatchObject({
      isAllowed: false,
      reason: 'custom-denied',
      policy: 'AuthorizationPolicy/foo/ext-authz',
      provider: 'ext-authz',
      response: { status: 403, body: 'denied by ext authz' },
    });
    expect(decision.response?.headers).toEqual([
      ['x-ext-authz-check-result', 'denied'],
      ['www-authenticate', 'Bearer realm="shop"'],
    ]);
  });

  it('passes every authorizer header but connection ones on deny when no list is given', async () => {
    const decision = await authorize(
      engine(undefined, [provider({ headersToDownstreamOnDeny: undefined })]),
      {
        path: '/protected/redirect',
      },
    );
    expect(decision.response?.status).toBe(302);
    expect(decision.response?.headers).toContainEqual(['location', 'https://login.example.com/']);
    expect(decision.response?.headers).toContainEqual(['x-other', 'dropped']);
    expect(decision.response?.headers.map(([name]) => name)).not.toContain('content-length');
  });

  it('an allowed check still goes through DENY and ALLOW policies', async () => {
    const denyDelete = authorizationPolicy('deny-delete', {
      action: 'DENY',
      rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }],
    });
    const allowGet = authorizationPolicy('allow-get', {
      rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
    });
    const policies = engine([customPolicy(), denyDelete, allowGet]);
    const headers = { 'x-ext-authz': 'allow' };
    expect(await authorize(policies, { method: 'DELETE', path: '/protected/a', headers })).toMatchObject({
      isAllowed: false,
      reason: 'deny-matched',
    });
    expect(await authorize(policies, { method: 'POST', path: '/protected/a', headers })).toMatchObject({
      isAllowed: false,
      reason: 'no-allow-matched',
    });
    expect(await authorize(policies, { method: 'GET', path: '/protected/a', headers })).toMatchObject({
      isAllowed: true,
      reason: 'allow-matched',
      upstreamHeaders: [
        ['x-user', 'alice'],
        ['x-ext-authz-check-result', 'allowed'],
      ],
    });
  });

  it('a denial by the authorizer comes first, before DENY policies are looked at', async () => {
    const denyAll = authorizationPolicy('deny-all', { action: 'DENY', rules: [{}] });
    expect(await authorize(engine([customPolicy(), denyAll]), { path: '/protected/a' })).toMatchObject({
      reason: 'custom-denied',
    });
  });
});

describe('CUSTOM: when the authorizer fails', () => {
  it('a 5xx is a failure: denied with statusOnError (403 by default) and no body', async () => {
    expect(await authorize(engine(), { path: '/protected/crash' })).toMatchObject({
      isAllowed: false,
      reason: 'custom-error',
      response: { status: 403, body: '', headers: [] },
    });
    const custom = engine(undefined, [provider({ statusOnError: '503' })]);
    expect((await authorize(custom, { path: '/protected/crash' })).response?.status).toBe(503);
  });

  it('failOpen lets the request on to the local policies, marked', async () => {
    const decision = await authorize(engine(undefined, [provider({ failOpen: true })]), {
      path: '/protected/crash',
    });
    expect(decision).toMatchObject({ isAllowed: true, hasFailedOpen: true, provider: 'ext-authz' });
  });

  it('an authorizer that cannot be reached is a failure', async () => {
    const closed = engine(undefined, [provider({ port: 1 })]);
    expect(await authorize(closed, { path: '/protected/a' })).toMatchObject({
      isAllowed: false,
      reason: 'custom-error',
    });
  });

  it('an authorizer that does not answer within the timeout is a failure (fake clock)', async () => {
    const received = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const pending = engine().authorize(request({ path: '/protected/hang' }));
    await received;
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1999);
    clock.advance(1);
    expect(await pending).toMatchObject({ isAllowed: false, reason: 'custom-error' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('a request that goes away aborts its check', async () => {
    const received = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const controller = new AbortController();
    const pending = engine().authorize(request({ path: '/protected/hang', signal: controller.signal }));
    await received;
    controller.abort();
    expect(await pending).toMatchObject({ isAllowed: false, reason: 'custom-error' });
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('CUSTOM: misconfiguration fails closed', () => {
  it('a provider the mesh options do not define denies what the policy matches, without a call', () => {
    const custom = engine([customPolicy('nope')]);
    const decision = custom.authorize(request({ path: '/protected/a' }));
    expect(decision).toMatchObject({
      isAllowed: false,
      reason: 'custom-unavailable',
      response: { status: 403 },
    });
    expect(custom.authorize(request({ path: '/public' }))).toMatchObject({ isAllowed: true });
    expect(custom.problems.join('\n')).toContain('"nope"');
    expect(seen).toEqual([]);
  });

  it('an invalid provider definition is refused, with the reason', () => {
    const custom = engine(undefined, [
      provider({ port: 0, includeRequestBodyInCheck: { maxRequestBytes: 10 } }),
    ]);
    expect(custom.authorize(request({ path: '/protected/a' }))).toMatchObject({
      reason: 'custom-unavailable',
    });
    expect(custom.problems.join('\n')).toMatch(/includeRequestBodyInCheck is not supported/);
  });

  it('CUSTOM policies naming different providers on one workload all deny what they match', () => {
    const custom = engine(
      [customPolicy('ext-authz', 'a'), customPolicy('other', 'b')],
      [provider(), provider({}, 'other')],
    );
    expect(custom.authorize(request({ path: '/protected/a' }))).toMatchObject({
      reason: 'custom-unavailable',
    });
    expect(custom.problems.join('\n')).toContain('name different providers');
  });

  it('without an external authorizer client, CUSTOM denies', () => {
    const custom = engineFor([customPolicy()], { extensionProviders: [provider()] });
    expect(custom.authorize(request({ path: '/protected/a' }))).toMatchObject({
      reason: 'custom-unavailable',
    });
  });

  it('TCP traffic a CUSTOM rule matches is denied: an HTTP authorizer cannot judge it', () => {
    const custom = engine([
      authorizationPolicy('ext-tcp', {
        action: 'CUSTOM',
        provider: { name: 'ext-authz' },
        rules: [{ to: [{ operation: { ports: ['8000'] } }] }],
      }),
    ]);
    expect(custom.authorize(request({ protocol: 'tcp' }))).toMatchObject({
      isAllowed: false,
      reason: 'custom-unavailable',
    });
    expect(seen).toEqual([]);
  });
});
