/**
 * `to[].operation` fields: hosts (no case, port or trailing dot), ports, methods and paths with
 * Istio's exact / prefix / suffix / `*` syntax and Envoy URI templates, and their `not` forms.
 */
import { describe, expect, it } from 'vitest';
import { authorizationPolicy, engineFor, isAllowed } from './authz-fixtures.ts';

const allowTo = (operation: object) =>
  engineFor([authorizationPolicy('allow', { rules: [{ to: [{ operation }] }] })]);
const denyTo = (operation: object) =>
  engineFor([authorizationPolicy('deny', { action: 'DENY', rules: [{ to: [{ operation }] }] })]);

describe('operation: paths', () => {
  it('matches exactly, by prefix, by suffix and "*"', () => {
    const engine = allowTo({ paths: ['/exact', '/api/*', '*.png'] });
    expect(isAllowed(engine, { path: '/exact' })).toBe(true);
    expect(isAllowed(engine, { path: '/exact/' })).toBe(false);
    expect(isAllowed(engine, { path: '/api/v1/items' })).toBe(true);
    expect(isAllowed(engine, { path: '/api' })).toBe(false);
    expect(isAllowed(engine, { path: '/images/logo.png' })).toBe(true);
    expect(isAllowed(allowTo({ paths: ['*'] }), { path: '/whatever' })).toBe(true);
  });

  it('is case-sensitive', () => {
    expect(isAllowed(denyTo({ paths: ['/admin'] }), { path: '/ADMIN' })).toBe(true);
  });

  it('matches Envoy URI templates: {*} one segment, {**} the rest', () => {
    const engine = allowTo({ paths: ['/store/{*}/items/{**}'] });
    expect(isAllowed(engine, { path: '/store/42/items/a/b/c' })).toBe(true);
    expect(isAllowed(engine, { path: '/store/42/items/' })).toBe(true);
    expect(isAllowed(engine, { path: '/store/42/7/items/a' })).toBe(false);
    expect(isAllowed(engine, { path: '/store//items/a' })).toBe(false);
    expect(isAllowed(engine, { path: '/store/42/items' })).toBe(false);
    expect(isAllowed(allowTo({ paths: ['/{*}/profile'] }), { path: '/alice/profile' })).toBe(true);
    expect(isAllowed(allowTo({ paths: ['/a.b/{*}'] }), { path: '/aXb/c' })).toBe(false);
  });

  it('notPaths', () => {
    const engine = allowTo({ notPaths: ['/admin*'] });
    expect(isAllowed(engine, { path: '/public' })).toBe(true);
    expect(isAllowed(engine, { path: '/admin/users' })).toBe(false);
  });
});

describe('operation: methods', () => {
  it('matches the method as sent', () => {
    const engine = allowTo({ methods: ['GET', 'HEAD'] });
    expect(isAllowed(engine, { method: 'GET' })).toBe(true);
    expect(isAllowed(engine, { method: 'HEAD' })).toBe(true);
    expect(isAllowed(engine, { method: 'POST' })).toBe(false);
    expect(isAllowed(engine, { method: 'get' })).toBe(false);
  });

  it('notMethods', () => {
    const engine = denyTo({ notMethods: ['GET'] });
    expect(isAllowed(engine, { method: 'GET' })).toBe(true);
    expect(isAllowed(engine, { method: 'DELETE' })).toBe(false);
  });
});

describe('operation: ports', () => {
  it('matches the port the request arrived on', () => {
    const engine = allowTo({ ports: ['8000'] });
    expect(isAllowed(engine, { destinationPort: 8000 })).toBe(true);
    expect(isAllowed(engine, { destinationPort: 8001 })).toBe(false);
    expect(isAllowed(denyTo({ notPorts: ['8000'] }), { destinationPort: 9000 })).toBe(false);
  });
});

describe('operation: hosts', () => {
  it('compares without case, port or trailing dot (bad-inputs D8, D9, D10)', () => {
    const engine = denyTo({ hosts: ['secret.com'] });
    for (const authority of [
      'secret.com',
      'Secret.COM',
      'secret.com:8080',
      'SECRET.com.',
      'secret.com.:443',
    ]) {
      expect(isAllowed(engine, { authority }), authority).toBe(false);
    }
    expect(isAllowed(engine, { authority: 'public.com' })).toBe(true);
    expect(isAllowed(engine, { authority: 'secret.com.evil' })).toBe(true);
  });

  it("lowers the case of the policy's hosts too", () => {
    expect(isAllowed(allowTo({ hosts: ['API.Example.COM'] }), { authority: 'api.example.com' })).toBe(true);
  });

  it('matches host prefixes and suffixes', () => {
    const engine = allowTo({ hosts: ['*.example.com', 'internal.*'] });
    expect(isAllowed(engine, { authority: 'api.example.com:443' })).toBe(true);
    expect(isAllowed(engine, { authority: 'internal.corp' })).toBe(true);
    expect(isAllowed(engine, { authority: 'example.org' })).toBe(false);
  });

  it('a host with a port matches only that port; host:* any port', () => {
    const engine = allowTo({ hosts: ['api.example.com:8080'] });
    expect(isAllowed(engine, { authority: 'api.example.com:8080' })).toBe(true);
    expect(isAllowed(engine, { authority: 'api.example.com:9090' })).toBe(false);
    expect(isAllowed(engine, { authority: 'api.example.com', destinationPort: 8080 })).toBe(true);
    expect(isAllowed(engine, { authority: 'api.example.com', destinationPort: 8000 })).toBe(false);
    expect(isAllowed(allowTo({ hosts: ['api.example.com:*'] }), { authority: 'API.example.com:1' })).toBe(
      true,
    );
  });

  it('a request without a usable authority matches no host, and DENY notHosts catches it', () => {
    expect(isAllowed(allowTo({ hosts: ['*'] }), { authority: undefined })).toBe(false);
    expect(isAllowed(allowTo({ hosts: ['*'] }), { authority: 'user@host' })).toBe(false);
    expect(isAllowed(denyTo({ notHosts: ['api.example.com'] }), { authority: undefined })).toBe(false);
    expect(isAllowed(denyTo({ notHosts: ['api.example.com'] }), { authority: 'api.example.com' })).toBe(true);
  });
});

describe('operation: combining', () => {
  it('ANDs fields and ORs operations', () => {
    const engine = engineFor([
      authorizationPolicy('allow', {
        rules: [
          {
            to: [
              { operation: { methods: ['GET'], paths: ['/info*'] } },
              { operation: { methods: ['POST'], paths: ['/data'] } },
            ],
          },
        ],
      }),
    ]);
    expect(isAllowed(engine, { method: 'GET', path: '/info/1' })).toBe(true);
    expect(isAllowed(engine, { method: 'POST', path: '/data' })).toBe(true);
    expect(isAllowed(engine, { method: 'POST', path: '/info/1' })).toBe(false);
    expect(isAllowed(engine, { method: 'GET', path: '/data' })).toBe(false);
  });

  it('ANDs from, to and when within a rule', () => {
    const engine = engineFor([
      authorizationPolicy('allow', {
        rules: [
          {
            from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }],
            to: [{ operation: { methods: ['GET'] } }],
            when: [{ key: 'request.headers[x-token]', values: ['secret'] }],
          },
        ],
      }),
    ]);
    expect(isAllowed(engine, { headers: { 'x-token': 'secret' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'x-token': 'secret' }, method: 'PUT' })).toBe(false);
    expect(isAllowed(engine, { headers: { 'x-token': 'secret' }, sourceIp: '11.0.0.1' })).toBe(false);
    expect(isAllowed(engine, { headers: { 'x-token': 'other' } })).toBe(false);
  });
});
