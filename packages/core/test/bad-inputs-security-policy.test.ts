/**
 * bad-inputs.md sections D (the rows about paths, hosts and headers that the request-level security
 * engine decides), F (JWT request authentication) and G (authorization semantics), one `describe`
 * per row. Rows that belong to the inbound HTTP server (parsing, framing, limits, the framework
 * routers) are tested through real servers in packages/http/test/bad-inputs-inbound.test.ts; each
 * row here says so where it applies.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyze,
  canonicalHost,
  HttpExtAuthzClient,
  normalizeRequestPath,
  type PathNormalization,
} from '../src/index.ts';
import { FakeClock } from '../src/testing.ts';
import { authorizationPolicy, decide, engineFor, isAllowed, load, peer, request } from './authz-fixtures.ts';
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

const denyAdmin = authorizationPolicy('deny-admin', {
  action: 'DENY',
  rules: [{ to: [{ operation: { paths: ['/admin', '/admin/*'] } }] }],
});
const allowPublicOnly = authorizationPolicy('allow-public', {
  rules: [{ to: [{ operation: { paths: ['/public', '/public/*'] } }] }],
});

/** What a request for `target` meets: the path the application gets, and whether it is allowed. */
function through(target: string, mode: PathNormalization, policies: object[] = [denyAdmin]) {
  const normalized = normalizeRequestPath(target, mode);
  if (!normalized.ok) return { status: 400, path: undefined };
  const allowed = isAllowed(engineFor(policies), { path: normalized.path, query: normalized.query });
  return { status: allowed ? 200 : 403, path: normalized.path };
}

describe('D1: path with // (//admin)', () => {
  it('merging modes turn //admin into /admin before authorization, and the application gets /admin', () => {
    expect(through('//admin', 'MERGE_SLASHES')).toEqual({ status: 403, path: '/admin' });
    expect(through('//admin', 'DECODE_AND_MERGE_SLASHES')).toEqual({ status: 403, path: '/admin' });
  });

  it('BASE (Istio default) keeps //admin for both authorization and the application, never two spellings', () => {
    expect(through('//admin', 'BASE')).toEqual({ status: 200, path: '//admin' });
    // Why ALLOW-positive policies are recommended: they refuse what they do not name.
    expect(through('//public', 'BASE', [allowPublicOnly]).status).toBe(403);
  });

  // The application's router (node:http, express, fastify) sees the normalized path: a differential
  // property test through real servers in packages/http/test/bad-inputs-inbound.test.ts (D1, D2).
});

describe('D2: escaped slashes %2F %2f %5C %5c', () => {
  it.each(['/admin%2Fusers', '/admin%2fusers', '/admin%5Cusers', '/admin%5cusers'])(
    'DECODE_AND_MERGE_SLASHES decodes %s to /admin/users, which the DENY catches',
    (target) => {
      expect(through(target, 'DECODE_AND_MERGE_SLASHES')).toEqual({ status: 403, path: '/admin/users' });
    },
  );

  it('BASE keeps them encoded (upper-case) for authorization and the application alike', () => {
    expect(through('/admin%2fusers', 'BASE')).toEqual({ status: 200, path: '/admin%2Fusers' });
    expect(through('/admin%2fusers', 'BASE', [allowPublicOnly]).status).toBe(403);
  });

  // The framework routers' own decoding of %2F against each mode: packages/http/test/bad-inputs-inbound.test.ts.
});

describe('D3: dot segments /a/../admin, /./, %2e%2e', () => {
  it.each([
    '/a/../admin',
    '/./admin',
    '/public/../admin',
    '/a/%2e%2e/admin',
    '/a/%2E%2E/admin',
    '/%2e/admin',
    '/x/..%2Fadmin',
  ])('%s reaches the DENY as /admin', (target) => {
    const result = through(target, 'DECODE_AND_MERGE_SLASHES');
    expect(result).toEqual({ status: 403, path: '/admin' });
  });

  it('BASE removes decoded dot segments too', () => {
    expect(through('/public/%2e%2e/admin', 'BASE')).toEqual({ status: 403, path: '/admin' });
  });
});

describe('D4: backslash as separator', () => {
  it('\\ becomes / (Istio BASE: \\da → /da)', () => {
    expect(through('/public\\..\\admin', 'BASE')).toEqual({ status: 403, path: '/admin' });
    expect(through('/\\admin', 'MERGE_SLASHES')).toEqual({ status: 403, path: '/admin' });
  });
});

describe('D5: fragment in the path', () => {
  it('is dropped before authorization and never reaches the application', () => {
    expect(through('/admin#section', 'BASE')).toEqual({ status: 403, path: '/admin' });
    expect(through('/user/profile#x', 'BASE').path).toBe('/user/profile');
  });
});

describe('D6: query string next to exact path matches', () => {
  it.each(['/admin?x=1', '/admin?', '/admin#', '/admin?x#y'])(
    '%s matches the exact path /admin',
    (target) => {
      expect(through(target, 'BASE').status).toBe(403);
    },
  );
});

describe('D7: case games (/ADMIN vs /admin)', () => {
  it('paths are case-sensitive: a DENY on /admin does not catch /ADMIN, an ALLOW on /public refuses it', () => {
    expect(through('/ADMIN', 'DECODE_AND_MERGE_SLASHES').status).toBe(200);
    expect(through('/ADMIN', 'DECODE_AND_MERGE_SLASHES', [allowPublicOnly]).status).toBe(403);
  });

  it('analysis warns about DENY with positive paths for that reason', () => {
    const issues = analyze(load(denyAdmin)).filter((issue) => issue.code === 'authorization-bypass-prone');
    expect(issues).toHaveLength(1);
  });
});

describe('D8: host case', () => {
  it('hosts compare without case', () => {
    const engine = engineFor([
      authorizationPolicy('deny', {
        action: 'DENY',
        rules: [{ to: [{ operation: { hosts: ['secret.com'] } }] }],
      }),
    ]);
    expect(isAllowed(engine, { authority: 'Secret.com' })).toBe(false);
    expect(isAllowed(engine, { authority: 'SECRET.COM' })).toBe(false);
  });
});

describe('D9: host with port, host:*', () => {
  it('a host without port matches every port; host:* too; host:8080 only that one', () => {
    const deny = (hosts: string[]) =>
      engineFor([
        authorizationPolicy('deny', { action: 'DENY', rules: [{ to: [{ operation: { hosts } }] }] }),
      ]);
    expect(isAllowed(deny(['secret.com']), { authority: 'secret.com:8080' })).toBe(false);
    expect(isAllowed(deny(['secret.com:*']), { authority: 'secret.com' })).toBe(false);
    expect(isAllowed(deny(['secret.com:8080']), { authority: 'secret.com:8080' })).toBe(false);
    expect(isAllowed(deny(['secret.com:8080']), { authority: 'secret.com:9090' })).toBe(true);
  });
});

describe('D10: trailing-dot host', () => {
  it('authorization strips the trailing dot exactly as routing does (canonicalHost)', () => {
    const engine = engineFor([
      authorizationPolicy('deny', {
        action: 'DENY',
        rules: [{ to: [{ operation: { hosts: ['api.example.com'] } }] }],
      }),
    ]);
    expect(isAllowed(engine, { authority: 'api.example.com.' })).toBe(false);
    expect(isAllowed(engine, { authority: 'api.example.com.:443' })).toBe(false);
    expect(canonicalHost('api.example.com.')).toBe('api.example.com');
  });
});

// D11 (duplicate Host, or Host and :authority that differ): two Hosts answer 400 before any policy,
// through a real server in packages/http/test/bad-inputs-inbound.test.ts. The inbound HTTP server
// speaks HTTP/1.1 only, so there is no :authority to disagree with.

describe('D12: missing Host', () => {
  it('the engine matches no host pattern without an authority, and a DENY with notHosts catches it', () => {
    const allow = engineFor([
      authorizationPolicy('allow', { rules: [{ to: [{ operation: { hosts: ['*'] } }] }] }),
    ]);
    expect(isAllowed(allow, { authority: undefined })).toBe(false);
    const deny = engineFor([
      authorizationPolicy('deny', {
        action: 'DENY',
        rules: [{ to: [{ operation: { notHosts: ['api.example.com'] } }] }],
      }),
    ]);
    expect(isAllowed(deny, { authority: undefined })).toBe(false);
  });

  // 400 without crashing, HTTP/1.1 and 1.0: packages/http/test/bad-inputs-inbound.test.ts (D12).
});

describe('D13: NUL byte in a header value', () => {
  it('the engine compares the whole value: nothing after a NUL is cut off', () => {
    const engine = engineFor([
      authorizationPolicy('allow', {
        rules: [{ when: [{ key: 'request.headers[x-user]', values: ['admin'] }] }],
      }),
    ]);
    expect(isAllowed(engine, { headers: { 'x-user': 'admin\u0000evil' } })).toBe(false);
    expect(isAllowed(engine, { headers: { 'x-user': 'admin' } })).toBe(true);
  });

  it('a NUL in the path is refused (400)', () => {
    expect(normalizeRequestPath('/admin\u0000.html').ok).toBe(false);
    expect(normalizeRequestPath('/admin%00.html').ok).toBe(false);
  });

  // A NUL in a header value is refused with 400 by the parser: packages/http/test/bad-inputs-inbound.test.ts (D13).
});

describe('D14: trailing whitespace in a header value', () => {
  it('values are matched without surrounding spaces and tabs', () => {
    const engine = engineFor([
      authorizationPolicy('deny', {
        action: 'DENY',
        rules: [{ when: [{ key: 'request.headers[x-role]', values: ['admin'] }] }],
      }),
    ]);
    expect(isAllowed(engine, { headers: { 'x-role': 'admin ' } })).toBe(false);
    expect(isAllowed(engine, { headers: { 'x-role': '\tadmin' } })).toBe(false);
  });
});

describe('D15: CRLF injection, bare CR or LF', () => {
  it('JWT claims holding CR or LF are never written into headers', async () => {
    const key = await signingKey('ES256');
    const rule = requestAuthentication('jwt', {
      jwtRules: [
        {
          issuer: ISSUER,
          jwks: JSON.stringify(jwks(key)),
          outputClaimToHeaders: [{ header: 'x-name', claim: 'name' }],
        },
      ],
    });
    const result = await authenticate(
      authenticatorFor([rule]),
      bearer(await sign(key, { name: 'a\r\nx-admin: true' })),
    );
    expect(result.outcome === 'authenticated' && result.headers.set).toEqual([]);
  });

  it('the path refuses bare CR and LF', () => {
    expect(normalizeRequestPath('/a\rb').ok).toBe(false);
    expect(normalizeRequestPath('/a\nb').ok).toBe(false);
  });

  // Bare CR/LF and obs-fold are refused by the parser of the node we run:
  // packages/http/test/bad-inputs-inbound.test.ts (D15).
});

// D16 (request smuggling: TE + CL, two Transfer-Encodings, `Content-Length :`, two lengths) is a
// parser row: 400 and never handed on, through a real server in packages/http/test/bad-inputs-inbound.test.ts.

describe('D17: headers with underscores (x_user vs x-user)', () => {
  it('the engine never treats x_user as x-user', () => {
    const engine = engineFor([
      authorizationPolicy('allow', {
        rules: [{ when: [{ key: 'request.headers[x-user]', values: ['admin'] }] }],
      }),
    ]);
    expect(isAllowed(engine, { headers: { x_user: 'admin' } })).toBe(false);
  });

  // Rejected (400, the default) or dropped before policies and the application:
  // packages/http/test/bad-inputs-inbound.test.ts (D17).
});

// D18 (header count capped: 431 past 100) and D19 (431 past node's 16 KiB maxHeaderSize) are limits of
// the inbound server: packages/http/test/bad-inputs-inbound.test.ts.

describe('D20: multi-valued headers used in authorization', () => {
  it('policies see the one comma-joined value, never the first or the last alone', () => {
    const denyAdmin = engineFor([
      authorizationPolicy('deny', {
        action: 'DENY',
        rules: [{ when: [{ key: 'request.headers[x-role]', values: ['admin'] }] }],
      }),
    ]);
    const allowUser = engineFor([
      authorizationPolicy('allow', {
        rules: [{ when: [{ key: 'request.headers[x-role]', values: ['user'] }] }],
      }),
    ]);
    const joined = { headers: { 'x-role': 'user,admin' } };
    // Neither the DENY nor the ALLOW reads one of the values: the joined value matches neither.
    expect(isAllowed(denyAdmin, joined)).toBe(true);
    expect(isAllowed(allowUser, joined)).toBe(false);
    // A policy written for the joined form (a suffix here) sees every value.
    const denyLastAdmin = engineFor([
      authorizationPolicy('deny', {
        action: 'DENY',
        rules: [{ when: [{ key: 'request.headers[x-role]', values: ['*admin'] }] }],
      }),
    ]);
    expect(isAllowed(denyLastAdmin, joined)).toBe(false);
  });

  it('an external authorizer is sent the same joined value', async () => {
    let seen: string | string[] | undefined;
    const server = createServer((incoming, response) => {
      seen = incoming.headers['x-role'];
      response.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new HttpExtAuthzClient({ clock: new FakeClock() });
    try {
      const engine = engineFor(
        [authorizationPolicy('ext', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] })],
        {
          extensionProviders: [
            {
              name: 'ext',
              envoyExtAuthzHttp: {
                service: '127.0.0.1',
                port: (server.address() as AddressInfo).port,
                includeRequestHeadersInCheck: ['x-role'],
              },
            },
          ],
          externalAuthorizer: client,
        },
      );
      await engine.authorize(request({ headers: { 'x-role': 'user,admin' } }));
      expect(seen).toBe('user,admin');
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('D21: spoofed internal headers', () => {
  it('headers request authentication writes are removed from every request first', async () => {
    const rule = requestAuthentication('jwt', {
      jwtRules: [
        { issuer: ISSUER, jwksUri: 'http://127.0.0.1:9/jwks', outputPayloadToHeader: 'x-jwt-payload' },
      ],
    });
    const result = await authenticate(
      authenticatorFor([rule]),
      tokenRequest({ 'x-jwt-payload': 'eyJzdWIiOiJhZG1pbiJ9' }),
    );
    expect(result).toEqual({ outcome: 'anonymous', headers: { remove: ['x-jwt-payload'], set: [] } });
  });

  // X-Forwarded-For is not believed for remote.ip without trusted proxies, and a forged
  // X-Forwarded-Client-Cert never reaches policies: packages/http/test/bad-inputs-inbound.test.ts (D21).
});

// D22 (HTTP/2 floods): @weft/http's inbound server speaks HTTP/1.1 only, so there is no HTTP/2 session
// to flood; packages/http/test/bad-inputs-inbound.test.ts checks that an HTTP/2 preface is not served.
// The HTTP/2 server of gRPC is @weft/grpc's.

describe('D23: absent header with notValues', () => {
  const rule = { when: [{ key: 'request.headers[x-api-key]', notValues: ['secret'] }] };

  it('a DENY with notValues denies a request without the header: never silently allowed', () => {
    expect(isAllowed(engineFor([authorizationPolicy('deny', { action: 'DENY', rules: [rule] })]), {})).toBe(
      false,
    );
  });

  it('an ALLOW with notValues never matches a request without the header', () => {
    expect(isAllowed(engineFor([authorizationPolicy('allow', { rules: [rule] })]), {})).toBe(false);
    expect(
      isAllowed(engineFor([authorizationPolicy('allow', { rules: [rule] })]), {
        headers: { 'x-api-key': 'other' },
      }),
    ).toBe(true);
  });
});

describe('F: JWT request authentication', () => {
  let key: SigningKey;
  let server: JwksServer;
  const rule = (extra: object = {}) =>
    requestAuthentication('jwt', { jwtRules: [{ issuer: ISSUER, jwksUri: server.uri, ...extra }] });
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  beforeAll(async () => {
    key = await signingKey('RS256');
    server = await new JwksServer().start();
    server.document = jwks(key);
  });

  afterAll(async () => {
    await server.close();
  });

  const outcome = async (token: string, extra: object = {}) => {
    const result = await authenticate(authenticatorFor([rule(extra)]), bearer(token));
    return result.outcome === 'rejected' ? `401 ${result.code}` : result.outcome;
  };

  describe('F1: alg none, HMAC with the public key, unexpected alg', () => {
    it('refuses them all with 401', async () => {
      expect(await outcome(`${base64url({ alg: 'none' })}.${base64url({ iss: ISSUER, sub: 'a' })}.`)).toBe(
        '401 algorithm-not-allowed',
      );
      expect(
        await outcome(
          `${base64url({ alg: 'HS256', kid: key.kid })}.${base64url({ iss: ISSUER, sub: 'a' })}.c2ln`,
        ),
      ).toBe('401 algorithm-not-allowed');
      expect(await outcome(`${base64url({ alg: 'RS1' })}.${base64url({ iss: ISSUER, sub: 'a' })}.c2ln`)).toBe(
        '401 algorithm-not-allowed',
      );
    });
  });

  describe('F2: expired, nbf in the future', () => {
    it('refuses with 401, with a few seconds of tolerance only', async () => {
      expect(await outcome(await sign(key, { exp: NOW_S - 10 }))).toBe('401 expired');
      expect(await outcome(await sign(key, { nbf: NOW_S + 10 }))).toBe('401 not-yet-valid');
      expect(await outcome(await sign(key, { exp: NOW_S - 2 }))).toBe('authenticated');
    });
  });

  describe('F3: wrong issuer', () => {
    it('is refused, never passed as anonymous; a missing token passes and authorization must ask for one', async () => {
      expect(await outcome(await sign(key, { iss: 'https://evil.example.com' }))).toBe(
        '401 issuer-not-configured',
      );
      expect((await authenticate(authenticatorFor([rule()]), tokenRequest())).outcome).toBe('anonymous');
      const requireToken = engineFor([
        authorizationPolicy('require', { rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] }),
      ]);
      expect(decide(requireToken, request()).isAllowed).toBe(false);
    });
  });

  describe('F4: missing aud, wrong aud, missing exp', () => {
    it('are refused when the rule requires them', async () => {
      expect(await outcome(await sign(key), { audiences: ['orders'] })).toBe('401 audience-not-allowed');
      expect(await outcome(await sign(key, { aud: 'other' }), { audiences: ['orders'] })).toBe(
        '401 audience-not-allowed',
      );
      const noExp = `${(await sign(key)).split('.')[0]}.${base64url({ iss: ISSUER, sub: 'a' })}.c2ln`;
      const strict = await authenticate(
        authenticatorFor([rule()], { requireExpiration: true }),
        bearer(noExp),
      );
      expect(strict.outcome).toBe('rejected');
    });
  });

  describe('F5: malformed tokens (bad base64, huge header, deep JSON)', () => {
    it('are refused with 401, no crash, and the length is capped before parsing', async () => {
      expect(await outcome('!!!.e30.x')).toBe('401 malformed');
      expect(await outcome(`${base64url({ alg: 'RS256' })}.!!!.x`)).toBe('401 malformed');
      expect(await outcome(`${base64url({ alg: 'RS256', pad: 'x'.repeat(20_000) })}.e30.c2ln`)).toBe(
        '401 too-large',
      );
      const deep = Buffer.from(`${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`).toString('base64url');
      expect(await outcome(`${base64url({ alg: 'RS256', kid: key.kid })}.${deep}.c2ln`)).toMatch(/^401 /);
    });
  });

  describe('F6: JWKS unreachable, slow or garbage at startup', () => {
    it('does not block startup or the configuration, refuses requests carrying a token, passes those without', async () => {
      const unreachable = requestAuthentication('jwt', {
        jwtRules: [{ issuer: ISSUER, jwksUri: 'http://127.0.0.1:9/jwks.json' }],
      });
      const authentication = authenticatorFor([unreachable]);
      expect((await authenticate(authentication, bearer(await sign(key)))).outcome).toBe('rejected');
      expect((await authenticate(authentication, tokenRequest())).outcome).toBe('anonymous');
    });

    it('a slow JWKS is bounded by the rule timeout (fake clock)', async () => {
      server.behaviour = 'hang';
      try {
        const authentication = authenticatorFor([rule({ timeout: '1s' })]);
        const arrived = server.nextRequest();
        const pending = authenticate(authentication, bearer(await sign(key)));
        await arrived;
        authentication.clock.advance(1_000);
        expect(await pending).toMatchObject({ outcome: 'rejected', code: 'jwks-unavailable' });
      } finally {
        server.behaviour = 'serve';
      }
    });
  });

  describe('F7: unknown kid flood', () => {
    it('refetches at most once per cooldown and serves the cached keys meanwhile', async () => {
      const authentication = authenticatorFor([rule()]);
      const before = server.requests;
      expect((await authenticate(authentication, bearer(await sign(key)))).outcome).toBe('authenticated');
      for (let i = 0; i < 10; i++) {
        const stranger = await signingKey('RS256', `unknown-${i}`);
        expect((await authenticate(authentication, bearer(await sign(stranger)))).outcome).toBe('rejected');
      }
      expect(server.requests - before).toBe(1);
      expect((await authenticate(authentication, bearer(await sign(key)))).outcome).toBe('authenticated');
    });
  });

  describe('F8: JWE and compressed tokens', () => {
    it('accepts only compact JWS: a JWE with PBES2 p2c is refused without any decryption', async () => {
      expect(
        await outcome(
          `${base64url({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 2_147_483_647, zip: 'DEF' })}.a.b.c.d`,
        ),
      ).toBe('401 jwe-not-accepted');
    });
  });

  describe('F9: path-scoped JWT requirements with query or fragment tricks', () => {
    it('a policy requiring a token on /admin sees the normalized path', () => {
      const requireOnAdmin = authorizationPolicy('require-jwt-admin', {
        action: 'DENY',
        rules: [
          {
            from: [{ source: { notRequestPrincipals: ['*'] } }],
            to: [{ operation: { paths: ['/admin', '/admin/*'] } }],
          },
        ],
      });
      for (const target of [
        '/admin?x=1',
        '/admin#frag',
        '/public/../admin',
        '/admin/./users',
        '//admin',
        '/admin%2Fusers',
      ]) {
        expect(through(target, 'DECODE_AND_MERGE_SLASHES', [requireOnAdmin]).status, target).toBe(403);
      }
    });
  });
});

describe('G1: DENY with positive paths, ALLOW with notPaths', () => {
  it('are accepted and enforced, and analysis warns about them', () => {
    const allowNotPaths = authorizationPolicy('allow-not-admin', {
      rules: [{ to: [{ operation: { notPaths: ['/admin*'] } }] }],
    });
    expect(isAllowed(engineFor([denyAdmin]), { path: '/admin' })).toBe(false);
    expect(isAllowed(engineFor([allowNotPaths]), { path: '/admin/x' })).toBe(false);
    const warned = analyze(load(denyAdmin, allowNotPaths)).filter(
      (issue) => issue.code === 'authorization-bypass-prone',
    );
    expect(warned.map((issue) => issue.resource).sort()).toEqual([
      'AuthorizationPolicy/foo/allow-not-admin',
      'AuthorizationPolicy/foo/deny-admin',
    ]);
  });
});

describe('G2: suffix and wildcard principals (*/ns/foo/sa/bar)', () => {
  it('the suffix is matched on the principal, in any trust domain, and nowhere else', () => {
    const engine = engineFor([
      authorizationPolicy('allow', { rules: [{ from: [{ source: { principals: ['*/ns/foo/sa/bar'] } }] }] }),
    ]);
    expect(isAllowed(engine, { peer: peer('foo', 'bar') })).toBe(true);
    expect(isAllowed(engine, { peer: peer('foo', 'bar', 'other-domain') })).toBe(true);
    expect(isAllowed(engine, { peer: peer('foo', 'barn') })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });

  // The compiled matcher is also property-tested against a reference one: authz-properties.test.ts.
});

describe('G3: HTTP-only fields in a policy applied to TCP traffic', () => {
  it('an ALLOW rule with HTTP-only fields does not match TCP; a DENY still denies', () => {
    const fields = { rules: [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }] };
    const tcp = { protocol: 'tcp' as const, method: undefined, path: undefined, destinationPort: 9000 };
    expect(isAllowed(engineFor([authorizationPolicy('allow', fields)]), tcp)).toBe(false);
    expect(isAllowed(engineFor([authorizationPolicy('deny', { action: 'DENY', ...fields })]), tcp)).toBe(
      false,
    );
    expect(
      isAllowed(engineFor([authorizationPolicy('deny', { action: 'DENY', ...fields })]), {
        ...tcp,
        destinationPort: 9001,
      }),
    ).toBe(true);
  });
});

describe('G4: evaluation order and empty policies', () => {
  it('CUSTOM → DENY → ALLOW; an allow-nothing denies all; no ALLOW policy allows', () => {
    expect(isAllowed(engineFor([]))).toBe(true);
    expect(isAllowed(engineFor([authorizationPolicy('allow-nothing', {})]))).toBe(false);
    expect(isAllowed(engineFor([authorizationPolicy('allow-all', { rules: [{}] })]))).toBe(true);
    expect(
      isAllowed(
        engineFor([
          authorizationPolicy('allow-all', { rules: [{}] }),
          authorizationPolicy('deny-all', { action: 'DENY', rules: [{}] }),
        ]),
      ),
    ).toBe(false);
    const custom = engineFor([
      authorizationPolicy('ext', { action: 'CUSTOM', provider: { name: 'missing' }, rules: [{}] }),
      authorizationPolicy('allow-all', { rules: [{}] }),
    ]);
    expect(decide(custom, request()).reason).toBe('custom-unavailable');
  });

  // The full matrix of DENY and ALLOW outcomes: authz-evaluation-order.test.ts.
});
