/**
 * `when` conditions with the keys of Istio's "Authorization Policy Conditions" page, `values` and
 * `notValues`, and how an absent attribute counts.
 */
import { describe, expect, it } from 'vitest';
import { authorizationPolicy, engineFor, isAllowed, jwtAuth, load, peer } from './authz-fixtures.ts';

const allowWhen = (...when: object[]) => engineFor([authorizationPolicy('allow', { rules: [{ when }] })]);
const denyWhen = (...when: object[]) =>
  engineFor([authorizationPolicy('deny', { action: 'DENY', rules: [{ when }] })]);

describe('conditions: request.headers[]', () => {
  it('matches a header by name without case, values with Istio wildcards', () => {
    const engine = allowWhen({ key: 'request.headers[User-Agent]', values: ['Mozilla/*', '*bot', 'curl'] });
    expect(isAllowed(engine, { headers: { 'user-agent': 'Mozilla/5.0' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'user-agent': 'searchbot' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'user-agent': 'curl' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'user-agent': 'curl/8' } })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it('"*" asks for the header to be present', () => {
    const engine = allowWhen({ key: 'request.headers[x-tenant]', values: ['*'] });
    expect(isAllowed(engine, { headers: { 'x-tenant': 'a' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'x-tenant': '' } })).toBe(true);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it('notValues in an ALLOW: present and not listed', () => {
    const engine = allowWhen({ key: 'request.headers[x-env]', notValues: ['prod'] });
    expect(isAllowed(engine, { headers: { 'x-env': 'dev' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'x-env': 'prod' } })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it('notValues in a DENY: an absent header is denied too', () => {
    const engine = denyWhen({ key: 'request.headers[x-api-key]', notValues: ['expected-key'] });
    expect(isAllowed(engine, { headers: { 'x-api-key': 'expected-key' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'x-api-key': 'guess' } })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it('values and notValues together', () => {
    const engine = allowWhen({
      key: 'request.headers[x-role]',
      values: ['admin*'],
      notValues: ['admin-readonly'],
    });
    expect(isAllowed(engine, { headers: { 'x-role': 'admin' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'x-role': 'admin-readonly' } })).toBe(false);
  });

  it('ANDs several conditions', () => {
    const engine = allowWhen(
      { key: 'request.headers[x-a]', values: ['1'] },
      { key: 'request.headers[x-b]', values: ['2'] },
    );
    expect(isAllowed(engine, { headers: { 'x-a': '1', 'x-b': '2' } })).toBe(true);
    expect(isAllowed(engine, { headers: { 'x-a': '1' } })).toBe(false);
  });
});

describe('conditions: addresses and ports', () => {
  it('source.ip, remote.ip and destination.ip take addresses and CIDR blocks', () => {
    expect(isAllowed(allowWhen({ key: 'source.ip', values: ['10.0.0.0/8'] }), { sourceIp: '10.1.1.1' })).toBe(
      true,
    );
    expect(isAllowed(allowWhen({ key: 'source.ip', values: ['10.0.0.0/8'] }), { sourceIp: '11.1.1.1' })).toBe(
      false,
    );
    expect(
      isAllowed(allowWhen({ key: 'remote.ip', values: ['198.51.100.7'] }), { remoteIp: '198.51.100.7' }),
    ).toBe(true);
    expect(
      isAllowed(denyWhen({ key: 'remote.ip', notValues: ['10.0.0.0/8'] }), { remoteIp: '8.8.8.8' }),
    ).toBe(false);
    expect(isAllowed(allowWhen({ key: 'destination.ip', values: ['10.0.0.9'] }), {})).toBe(true);
    expect(
      isAllowed(allowWhen({ key: 'destination.ip', values: ['10.0.0.9'] }), { destinationIp: '10.0.0.8' }),
    ).toBe(false);
  });

  it('destination.port', () => {
    expect(
      isAllowed(allowWhen({ key: 'destination.port', values: ['8000', '8443'] }), { destinationPort: 8443 }),
    ).toBe(true);
    expect(
      isAllowed(allowWhen({ key: 'destination.port', notValues: ['8000'] }), { destinationPort: 8000 }),
    ).toBe(false);
  });
});

describe('conditions: mTLS identity and connection', () => {
  it('source.principal, source.namespace, source.serviceAccount, source.trustDomain', () => {
    const sleep = peer('default', 'sleep');
    expect(
      isAllowed(allowWhen({ key: 'source.principal', values: ['cluster.local/ns/default/sa/sleep'] }), {
        peer: sleep,
      }),
    ).toBe(true);
    expect(isAllowed(allowWhen({ key: 'source.principal', values: ['*'] }), {})).toBe(false);
    expect(isAllowed(allowWhen({ key: 'source.namespace', values: ['default'] }), { peer: sleep })).toBe(
      true,
    );
    expect(
      isAllowed(allowWhen({ key: 'source.serviceAccount', values: ['default/sleep'] }), { peer: sleep }),
    ).toBe(true);
    expect(
      isAllowed(allowWhen({ key: 'source.trustDomain', values: ['cluster.local'] }), { peer: sleep }),
    ).toBe(true);
    expect(isAllowed(denyWhen({ key: 'source.namespace', notValues: ['default'] }), {})).toBe(false);
  });

  it('connection.sni', () => {
    const engine = allowWhen({ key: 'connection.sni', values: ['*.example.com'] });
    expect(isAllowed(engine, { sni: 'api.example.com' })).toBe(true);
    expect(isAllowed(engine, { sni: 'api.example.org' })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });
});

describe('conditions: request.auth', () => {
  const auth = jwtAuth({
    iss: 'https://issuer.example.com',
    sub: 'alice',
    aud: ['orders', 'billing'],
    azp: 'web-app',
    groups: ['dev', 'ops'],
    scope: 'orders.read orders.write',
    tier: 'gold',
    level: 3,
    org: { team: { name: 'payments' }, roles: ['lead'] },
  });

  it('request.auth.principal, audiences, presenter', () => {
    expect(
      isAllowed(allowWhen({ key: 'request.auth.principal', values: ['https://issuer.example.com/alice'] }), {
        auth,
      }),
    ).toBe(true);
    expect(isAllowed(allowWhen({ key: 'request.auth.audiences', values: ['billing'] }), { auth })).toBe(true);
    expect(isAllowed(allowWhen({ key: 'request.auth.audiences', values: ['shipping'] }), { auth })).toBe(
      false,
    );
    expect(isAllowed(allowWhen({ key: 'request.auth.presenter', values: ['web-*'] }), { auth })).toBe(true);
    expect(isAllowed(allowWhen({ key: 'request.auth.principal', values: ['*'] }), {})).toBe(false);
  });

  it('request.auth.claims[] on strings and lists of strings', () => {
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[tier]', values: ['gold'] }), { auth })).toBe(true);
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[groups]', values: ['ops'] }), { auth })).toBe(
      true,
    );
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[groups]', values: ['admin'] }), { auth })).toBe(
      false,
    );
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[groups]', notValues: ['admin'] }), { auth })).toBe(
      true,
    );
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[groups]', notValues: ['dev'] }), { auth })).toBe(
      false,
    );
  });

  it('nested claims with one bracket per level', () => {
    expect(
      isAllowed(allowWhen({ key: 'request.auth.claims[org][team][name]', values: ['payments'] }), { auth }),
    ).toBe(true);
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[org][roles]', values: ['lead'] }), { auth })).toBe(
      true,
    );
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[org][team]', values: ['*'] }), { auth })).toBe(
      false,
    );
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[org][missing]', values: ['*'] }), { auth })).toBe(
      false,
    );
  });

  it('space-delimited claims (scope) match the whole value or any word of it', () => {
    expect(
      isAllowed(allowWhen({ key: 'request.auth.claims[scope]', values: ['orders.write'] }), { auth }),
    ).toBe(true);
    expect(
      isAllowed(allowWhen({ key: 'request.auth.claims[scope]', values: ['orders.read orders.write'] }), {
        auth,
      }),
    ).toBe(true);
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[scope]', values: ['orders'] }), { auth })).toBe(
      false,
    );
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[tier]', values: ['go'] }), { auth })).toBe(false);
  });

  it('numbers and objects never match strings', () => {
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[level]', values: ['3'] }), { auth })).toBe(false);
    expect(isAllowed(denyWhen({ key: 'request.auth.claims[level]', notValues: ['3'] }), { auth })).toBe(
      false,
    );
  });

  it('claims of a request without a token are absent', () => {
    expect(isAllowed(allowWhen({ key: 'request.auth.claims[groups]', values: ['*'] }), {})).toBe(false);
    expect(isAllowed(denyWhen({ key: 'request.auth.claims[groups]', notValues: ['dev'] }), {})).toBe(false);
  });
});

describe('conditions: refused keys', () => {
  it.each([
    'experimental.envoy.filters.network.mysql_proxy[db.table]',
    'destination.namespace',
    'destination.labels[app]',
    'request.regex.headers[x]',
    'request.headers',
  ])('the parser refuses the whole policy for %s', (key) => {
    expect(() => load(authorizationPolicy('p', { rules: [{ when: [{ key, values: ['x'] }] }] }))).toThrow(
      /AuthorizationPolicy/,
    );
  });
});
